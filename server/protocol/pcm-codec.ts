/**
 * Moved to the shared protocol module (client-sdk/src/protocol/pcm-codec.ts); the input clamp is
 * server/session/input-clamp.ts. This re-export only keeps loadtest/fuzz compiling while it is being reworked
 * elsewhere; new code imports the protocol module. Delete once nothing imports this path.
 */
export * from '../../client-sdk/src/protocol/pcm-codec.ts';
