export {};
//# sourceMappingURL=webrtc-messages.js.map