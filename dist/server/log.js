/**
 * Structured JSON logs, one object per line: {"time","level","msg",...fields}. Child loggers carry context
 * (sessionId, model). Errors are serialised with their code and cause chain.
 *
 * Log fields often carry client input (a field of a refused message, an Origin header, a URL), so every line is
 * bounded: each string value (keys, nested values, error messages and stacks included) is cut to
 * LOG_STRING_MAX_CHARS with a `…(+N chars)` marker, collections and nesting are capped, and a line never exceeds
 * LOG_LINE_MAX_BYTES — otherwise one 1 MB message becomes a 1 MB log line, and a few of them fill the disk.
 * Writing a line never throws (cycles, BigInt and throwing getters are rendered as text).
 */
import { LOG_STRING_MAX_CHARS, truncateText } from "./text-bounds.js";
const RANK = { debug: 10, info: 20, warn: 30, error: 40 };
/** Upper bound of one log line in UTF-8 bytes, without the trailing newline. */
export const LOG_LINE_MAX_BYTES = 8192;
const NORMAL = { maxChars: LOG_STRING_MAX_CHARS, maxItems: 50, maxDepth: 6 };
// Second attempt when a line is still too long: enough to see what happened, small enough to always fit.
const TIGHT = { maxChars: 64, maxItems: 10, maxDepth: 3 };
const KEY_MAX_CHARS = 128;
/** How deep a cause chain is followed (errors wrapping errors). */
const MAX_CAUSE_DEPTH = 3;
function errorRecord(err, chainDepth) {
    const out = { name: err.name, message: err.message };
    const code = err.code;
    if (code !== undefined)
        out['code'] = code;
    if (err.stack && chainDepth === 0)
        out['stack'] = err.stack.split('\n').slice(0, 6).join('\n');
    if (err.cause !== undefined && chainDepth < MAX_CAUSE_DEPTH) {
        out['cause'] = err.cause instanceof Error ? errorRecord(err.cause, chainDepth + 1) : err.cause;
    }
    return out;
}
function read(obj, key) {
    try {
        return obj[key];
    }
    catch {
        return '[unreadable]';
    }
}
/** A JSON-safe copy of `value` within `bounds`; never throws. */
function bounded(value, bounds, depth, ancestors) {
    switch (typeof value) {
        case 'string':
            return truncateText(value, bounds.maxChars);
        case 'number':
        case 'boolean':
        case 'undefined':
            return value;
        case 'bigint':
            return truncateText(value.toString(), bounds.maxChars);
        case 'symbol':
            return truncateText(value.toString(), bounds.maxChars);
        case 'function':
            return `[function ${truncateText(value.name, 64)}]`;
    }
    if (value === null)
        return null;
    const obj = value;
    if (ancestors.has(obj))
        return '[circular]';
    if (depth >= bounds.maxDepth)
        return '[too deep]';
    if (obj instanceof Error)
        return bounded(errorRecord(obj, 0), bounds, depth, ancestors);
    if (ArrayBuffer.isView(obj))
        return `[${obj.constructor.name} ${obj.byteLength} bytes]`;
    if (obj instanceof ArrayBuffer)
        return `[ArrayBuffer ${obj.byteLength} bytes]`;
    const toJSON = read(obj, 'toJSON');
    if (typeof toJSON === 'function') {
        try {
            return bounded(toJSON.call(obj), bounds, depth + 1, ancestors);
        }
        catch {
            return '[unserialisable]';
        }
    }
    ancestors.add(obj);
    try {
        if (Array.isArray(obj)) {
            const items = obj.slice(0, bounds.maxItems).map((item) => bounded(item, bounds, depth + 1, ancestors));
            if (obj.length > bounds.maxItems)
                items.push(`…(+${obj.length - bounds.maxItems} items)`);
            return items;
        }
        const keys = Object.keys(obj);
        const out = {};
        for (const key of keys.slice(0, bounds.maxItems)) {
            out[truncateText(key, KEY_MAX_CHARS)] = bounded(read(obj, key), bounds, depth + 1, ancestors);
        }
        if (keys.length > bounds.maxItems)
            out['…'] = `(+${keys.length - bounds.maxItems} keys)`;
        return out;
    }
    finally {
        ancestors.delete(obj);
    }
}
function fits(line) {
    return Buffer.byteLength(line, 'utf8') <= LOG_LINE_MAX_BYTES;
}
/** Each top-level field bounded on its own; top-level keys are not capped here (the line budget decides). */
function boundedRecord(record, bounds) {
    const out = {};
    for (const key of Object.keys(record))
        out[truncateText(key, KEY_MAX_CHARS)] = bounded(read(record, key), bounds, 1, new Set());
    return out;
}
/**
 * The JSON line for a record, at most LOG_LINE_MAX_BYTES: normal bounds, else tight bounds, else the head
 * (time, level, msg) plus, in order, the tightly bounded fields that fit, with `logTruncated` and the count of
 * omitted fields.
 */
export function renderLogLine(record) {
    const normal = JSON.stringify(boundedRecord(record, NORMAL));
    if (fits(normal))
        return normal;
    const tight = boundedRecord(record, TIGHT);
    const tightLine = JSON.stringify(tight);
    if (fits(tightLine))
        return tightLine;
    const head = {};
    for (const key of ['time', 'level', 'msg'])
        head[key] = read(tight, key);
    // Room for `,"logTruncated":true,"omittedFields":<n>` appended below.
    let used = Buffer.byteLength(JSON.stringify(head), 'utf8') + 64;
    const kept = {};
    let omitted = 0;
    for (const [key, value] of Object.entries(tight)) {
        if (Object.hasOwn(head, key) || value === undefined)
            continue;
        const size = Buffer.byteLength(`${JSON.stringify(key)}:${JSON.stringify(value)},`, 'utf8');
        if (used + size <= LOG_LINE_MAX_BYTES) {
            kept[key] = value;
            used += size;
        }
        else {
            omitted += 1;
        }
    }
    return JSON.stringify({ ...head, ...kept, logTruncated: true, omittedFields: omitted });
}
export function createLogger(options) {
    const write = options.write ?? ((line) => process.stdout.write(line + '\n'));
    const min = RANK[options.level];
    const make = (context) => {
        const emit = (level, msg, fields) => {
            if (RANK[level] < min)
                return;
            const record = { time: new Date().toISOString(), level, msg, ...context };
            if (fields)
                for (const [k, v] of Object.entries(fields))
                    record[k] = v;
            write(renderLogLine(record));
        };
        return {
            debug: (msg, fields) => emit('debug', msg, fields),
            info: (msg, fields) => emit('info', msg, fields),
            warn: (msg, fields) => emit('warn', msg, fields),
            error: (msg, fields) => emit('error', msg, fields),
            child: (fields) => make({ ...context, ...fields }),
        };
    };
    return make(options.fields ?? {});
}
//# sourceMappingURL=log.js.map