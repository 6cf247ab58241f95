export {};
//# sourceMappingURL=server-messages.js.map