/**
 * A binary min-heap of timers keyed by deadline, with O(log n) insert and
 * O(log n) removal by index. Entries are intrusive (the heap stores the
 * entry's own position in it), so cancelling a timeout — the common case for
 * deadlines that guard I/O — costs no search and no allocation.
 */

/** Something that can be put on the timer heap. */
export interface TimerEntry {
  /** Absolute deadline in the clock's milliseconds. */
  at: number;
  /** Position in the heap, or -1 when not scheduled. Owned by the heap. */
  heapIndex: number;
  /** Insertion order, so equal deadlines fire first-in first-out. Owned by the heap. */
  heapSeq: number;
  /** Called when the deadline passes. */
  onTimer(): void;
}

export class TimerHeap {
  private heap: TimerEntry[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Earliest deadline, or `Infinity` when empty. */
  get nextAt(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0]!.at;
  }

  insert(entry: TimerEntry): void {
    if (entry.heapIndex !== -1) this.remove(entry);
    entry.heapSeq = this.seq++;
    const heap = this.heap;
    heap.push(entry);
    entry.heapIndex = heap.length - 1;
    this.up(entry.heapIndex);
  }

  remove(entry: TimerEntry): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    const heap = this.heap;
    const last = heap.pop()!;
    entry.heapIndex = -1;
    if (i < heap.length) {
      heap[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  /** Removes and returns the earliest entry if it is due at `now`. */
  popDue(now: number): TimerEntry | undefined {
    const heap = this.heap;
    if (heap.length === 0 || heap[0]!.at > now) return undefined;
    const top = heap[0]!;
    this.remove(top);
    return top;
  }

  /** Entries are ordered by deadline, then by insertion (FIFO for equal deadlines). */
  private less(a: TimerEntry, b: TimerEntry): boolean {
    if (a.at !== b.at) return a.at < b.at;
    return a.heapSeq < b.heapSeq;
  }

  private up(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p]!;
      if (!this.less(entry, parent)) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(heap[r]!, heap[l]!) ? r : l;
      const child = heap[c]!;
      if (!this.less(child, entry)) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }
}

/**
 * Checks a duration given to `sleep`, `timeout` or `moveOnAfter`: any number
 * but NaN (0 or less: at once; Infinity: never). NaN, usually a missing
 * option, would otherwise make a timer that orders before and after
 * everything and stall the others.
 */
export function checkDuration(ms: number, what: string): void {
  if (typeof ms !== "number" || Number.isNaN(ms)) throw new RangeError(`${what}: ms must be a number of milliseconds, got ${String(ms)}`);
}
