/**
 * What the connections of one load run share: the request plan, the
 * counters, the phase, and how many requests are left to send.
 *
 * @module
 */
import { Event, Semaphore } from "@skein/core";
import type { LoadConnection } from "./connection.js";
import type { ResolvedLoadOptions } from "./options.js";
import type { RequestPlan } from "./plan.js";
import { LoadStats } from "./stats.js";

/** Shared state of a run. */
export class LoadRun {
  readonly options: ResolvedLoadOptions;
  readonly plan: RequestPlan;
  readonly stats = new LoadStats();
  readonly connections: LoadConnection[] = [];
  /** Bounds the connections being opened at once (`connectConcurrency`), or null for no bound. */
  readonly connectGate: Semaphore | null;
  /** True while responses and errors are counted (warm-up included; the counters restart when measuring starts). */
  recording = true;
  /** True during the measurement (after the warm-up, before the end). */
  measuring = false;
  /** True once no more requests may be sent. */
  stopping = false;
  /** The pacer sends requests (a rate was given), not the connections. */
  readonly paced: boolean;
  /** Count mode: measured requests not yet sent (Infinity without a count). */
  toSend: number;
  /** Count mode: measured responses received. */
  answered = 0;
  /** Set when a count-mode run has all its answers. */
  readonly done = new Event("load done");
  /** Connections open now. */
  connected = 0;
  /** Most connections open at once. */
  peakConnected = 0;
  /**
   * Send times of the requests in flight, `pipeline` slots per connection:
   * one array for the run rather than one per connection (a typed array
   * costs ~200 bytes of headers, which adds up at 10,000 connections).
   */
  readonly sentAt: Float64Array;
  /** Per connection: when it last made progress (a response, or a send after an idle spell), for the timeout watchdog. */
  readonly progressAt: Float64Array;

  constructor(options: ResolvedLoadOptions, plan: RequestPlan) {
    this.options = options;
    this.plan = plan;
    this.paced = options.rate > 0;
    this.toSend = options.count > 0 ? options.count : Infinity;
    this.connectGate = options.connectConcurrency > 0 ? new Semaphore(options.connectConcurrency, "connect gate") : null;
    this.sentAt = new Float64Array(options.connections * options.pipeline);
    this.progressAt = new Float64Array(options.connections);
  }

  /** Ends the warm-up: counters restart, answers to warm-up requests are not counted. */
  startMeasuring(): void {
    this.stats.reset();
    for (const c of this.connections) c.markInflightUncounted();
    this.measuring = true;
  }

  /** Ends the measurement: nothing more is sent or counted. */
  stop(): void {
    this.recording = false;
    this.measuring = false;
    this.stopping = true;
  }

  /** A measured response arrived (any outcome). */
  onAnswered(): void {
    if (++this.answered === this.options.count) this.done.set();
  }

  /** Measured requests were lost with their connection: in count mode they are sent again. */
  onLost(measured: number): void {
    if (this.toSend !== Infinity) this.toSend += measured;
  }
}
