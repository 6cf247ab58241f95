export {};
//# sourceMappingURL=connection.js.map