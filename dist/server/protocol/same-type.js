export {};
//# sourceMappingURL=same-type.js.map