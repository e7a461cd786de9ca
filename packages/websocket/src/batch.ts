/**
 * Read batches: what handlers send while the messages of one socket read
 * are being handled is held until the read is done, then written with one
 * write per socket (uWS's cork, stretched over a whole read).
 *
 * `ws` emits the messages of a read one after the other, each resuming a
 * handler; the kernel's ready queue empties after each, so flushing "when
 * the kernel is idle" alone would write once per message. The first message
 * of a read opens a batch and queues a microtask, which runs right after the
 * read's I/O callback and flushes every socket that was held — the reading
 * socket, or the thousand subscribers a hub published to.
 *
 * @module
 */

/** A socket whose flush can be held back. */
export interface Batched {
  /** Set while the socket waits in the batch. */
  held: boolean;
  flush(): void;
}

let reading = false;
const heldSockets: Batched[] = [];

function endReading(): void {
  reading = false;
  for (let i = 0; i < heldSockets.length; i++) {
    const s = heldSockets[i]!;
    s.held = false;
    s.flush();
  }
  heldSockets.length = 0;
}

/** A message of a read is being delivered: open the batch, if none is open. */
export function messageArrives(): void {
  if (reading) return;
  reading = true;
  queueMicrotask(endReading);
}

/** Returns true (and remembers `s`) when its flush must wait for the read in progress. */
export function holdWhileReading(s: Batched): boolean {
  if (!reading) return false;
  if (!s.held) {
    s.held = true;
    heldSockets.push(s);
  }
  return true;
}
