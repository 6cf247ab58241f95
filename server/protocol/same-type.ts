/**
 * Compile-time type equality, for pinning a zod schema's inferred type to the shared protocol type it validates:
 * `const check: Same<A, B> = true` fails to compile unless A and B are the same type. The identity test alone treats
 * `x?: T` and `x?: T | undefined` as equal, so mutual assignability (which exactOptionalPropertyTypes makes strict)
 * is required as well.
 */
type Identical<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export type Same<A, B> = Identical<A, B> extends true ? ([A] extends [B] ? ([B] extends [A] ? true : false) : false) : false;

/** Flattens intersections so `Same` compares shapes, not how a type was spelled. */
export type Shape<T> = T extends object ? { [K in keyof T]: T[K] } : T;
