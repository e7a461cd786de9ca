/**
 * A growable FIFO ring buffer: O(1) push and shift with no per-item
 * allocation, unlike `Array#shift` which is O(n) on large arrays.
 * (undici's `fixed-queue.js` idea; capacity doubles when full.)
 */
export class Ring<T> {
  private items: (T | undefined)[];
  private head = 0;
  private tail = 0;
  private mask: number;
  /** Number of items held. */
  length = 0;

  constructor(capacityPow2 = 16) {
    this.items = new Array(capacityPow2);
    this.mask = capacityPow2 - 1;
  }

  push(item: T): void {
    if (this.length === this.items.length) this.grow();
    this.items[this.tail] = item;
    this.tail = (this.tail + 1) & this.mask;
    this.length++;
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    return item;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.length === 0 ? undefined : this.items[this.head];
  }

  /** Removes the first occurrence of `item` (O(n); for cancellation paths only). */
  remove(item: T): boolean {
    for (let i = 0; i < this.length; i++) {
      const at = (this.head + i) & this.mask;
      if (this.items[at] === item) {
        for (let j = i; j < this.length - 1; j++) {
          this.items[(this.head + j) & this.mask] = this.items[(this.head + j + 1) & this.mask];
        }
        this.tail = (this.tail - 1) & this.mask;
        this.items[this.tail] = undefined;
        this.length--;
        return true;
      }
    }
    return false;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.length; i++) yield this.items[(this.head + i) & this.mask] as T;
  }

  private grow(): void {
    const old = this.items;
    const size = old.length * 2;
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask];
    this.items = next;
    this.head = 0;
    this.tail = this.length;
    this.mask = size - 1;
  }
}
