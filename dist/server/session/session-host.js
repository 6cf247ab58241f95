export {};
//# sourceMappingURL=session-host.js.map