/**
 * The livestem wire protocol (docs/protocol.md), shared by the server, the client SDK and the load tester: protocol
 * version and value sets, every JSON message type in both directions, the binary output frame and bundle codecs, the
 * PCM codec and the error catalog. It imports nothing outside this folder (no zod, no node: modules) so browsers
 * bundle it as is; it lives inside client-sdk/src because the SDK is compiled and published on its own (rootDir src).
 */
export * from './constants.ts';
export type * from './client-messages.ts';
export type * from './server-messages.ts';
export type * from './webrtc-messages.ts';
export * from './error-catalog.ts';
export * from './pcm-codec.ts';
export * from './audio-frame-codec.ts';
export * from './output-bundle-codec.ts';
