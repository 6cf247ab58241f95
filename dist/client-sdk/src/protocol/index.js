/**
 * The livestem wire protocol (docs/protocol.md), shared by the server, the client SDK and the load tester: protocol
 * version and value sets, every JSON message type in both directions, the binary output frame codec, the PCM codec and
 * the error catalog. It imports nothing outside this folder (no zod, no node: modules) so browsers bundle it as is;
 * it lives inside client-sdk/src because the SDK is compiled and published on its own (rootDir src).
 */
export * from "./constants.js";
export * from "./error-catalog.js";
export * from "./pcm-codec.js";
export * from "./audio-frame-codec.js";
//# sourceMappingURL=index.js.map