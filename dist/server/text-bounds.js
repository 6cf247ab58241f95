/**
 * Bounds on text that comes from clients before it is echoed back (error messages) or written to logs. Whatever a
 * client sends, what the server repeats of it stays small: a 1 MB field must not become a 1 MB error or log line.
 */
/** Longest string field value a log line keeps (longer values are cut and marked). */
export const LOG_STRING_MAX_CHARS = 512;
/** Default length of client input quoted in an error message. */
export const ECHO_MAX_CHARS = 64;
/** The marker appended where text was cut: `…(+N chars)`, N counted in UTF-16 code units like `String.length`. */
export function cutMarker(droppedChars) {
    return `…(+${droppedChars} chars)`;
}
/** Start of the cut so that a surrogate pair is never split (a lone surrogate would become U+FFFD in UTF-8). */
function cutIndex(value, maxChars) {
    if (maxChars <= 0)
        return 0;
    const last = value.charCodeAt(maxChars - 1);
    return last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : maxChars;
}
/**
 * `value` unchanged when it has at most `maxChars` UTF-16 code units, else its first `maxChars` (one fewer when that
 * would split a surrogate pair) followed by `…(+N chars)`. Pure; never throws.
 */
export function truncateText(value, maxChars = LOG_STRING_MAX_CHARS) {
    const limit = Math.max(0, Math.floor(maxChars));
    if (value.length <= limit)
        return value;
    const at = cutIndex(value, limit);
    return value.slice(0, at) + cutMarker(value.length - at);
}
// C0/C1 controls and the Unicode line/paragraph separators: quoted input must not start new lines or move a cursor
// in whatever displays the message.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/**
 * Client input as it may appear inside an error message: control characters replaced by U+FFFD, then cut to
 * `maxChars` with the `…(+N chars)` marker (N counts the characters left out of the original).
 */
export function truncateForEcho(value, maxChars = ECHO_MAX_CHARS) {
    return truncateText(value.replace(CONTROL_CHARS, '\ufffd'), maxChars);
}
//# sourceMappingURL=text-bounds.js.map