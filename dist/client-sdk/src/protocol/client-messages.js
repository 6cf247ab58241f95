export {};
//# sourceMappingURL=client-messages.js.map