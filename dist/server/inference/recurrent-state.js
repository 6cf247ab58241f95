export function batchLayout(shape) {
    const axis = shape.indexOf('batch');
    if (axis < 0)
        throw new RangeError('shape has no "batch" axis');
    const product = (dims) => dims.reduce((acc, d) => acc * (d === 'batch' ? 1 : d), 1);
    const outer = product(shape.slice(0, axis));
    const inner = product(shape.slice(axis + 1));
    return { outer, inner, perItem: outer * inner };
}
export function concreteDims(shape, batch) {
    return shape.map((d) => (d === 'batch' ? batch : d));
}
/** Copies each item's slice into `out` (at least batch × perItem long) in batched layout; returns the used view. */
export function gather(layout, items, out) {
    const batch = items.length;
    const { outer, inner } = layout;
    for (let b = 0; b < batch; b++) {
        const item = items[b];
        if (item.length !== layout.perItem)
            throw new RangeError(`item ${b} has ${item.length} values, need ${layout.perItem}`);
        for (let o = 0; o < outer; o++)
            out.set(item.subarray(o * inner, (o + 1) * inner), (o * batch + b) * inner);
    }
    return out.subarray(0, batch * layout.perItem);
}
/** Inverse of gather: copies item b's slice of `batched` into `targets[b]`. */
export function scatter(layout, batched, targets) {
    const batch = targets.length;
    const { outer, inner } = layout;
    if (batched.length !== batch * layout.perItem) {
        throw new RangeError(`batched tensor has ${batched.length} values, need ${batch * layout.perItem}`);
    }
    for (let b = 0; b < batch; b++) {
        const target = targets[b];
        for (let o = 0; o < outer; o++)
            target.set(batched.subarray((o * batch + b) * inner, (o * batch + b + 1) * inner), o * inner);
    }
}
/** Item b's slice of `batched`: a view when outer = 1 (no copy on the hot path), else a copy. */
export function sliceItem(layout, batched, batch, b) {
    const { outer, inner } = layout;
    if (outer === 1)
        return batched.subarray(b * inner, (b + 1) * inner);
    const out = new Float32Array(layout.perItem);
    for (let o = 0; o < outer; o++)
        out.set(batched.subarray((o * batch + b) * inner, (o * batch + b + 1) * inner), o * inner);
    return out;
}
/** One stream's recurrent state: one array per state tensor, zeros at stream start (manifest contract). */
export class RecurrentState {
    values;
    constructor(io) {
        this.values = io.state.map((s) => new Float32Array(batchLayout(s.shape).perItem));
    }
    reset() {
        for (const v of this.values)
            v.fill(0);
    }
}
//# sourceMappingURL=recurrent-state.js.map