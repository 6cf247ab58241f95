export {};
//# sourceMappingURL=frame-model.js.map