// @skein/core — the public API. This file only re-exports.
export type { Operation, Result, Teardown } from "./operation.js";
export { Instruction, KernelInstruction } from "./operation.js";
export { Kernel, currentTaskSync, type KernelOptions, type Flushable } from "./kernel.js";
export { Task, TaskCancelledError, type JoinLike, type SpawnOptions, type TaskStateName } from "./task.js";
export { run, start, DeadlockError, type RunOptions } from "./run.js";
export type { TimerEntry } from "./timers.js";
export { RealClock, VirtualClock, type Clock, type VirtualClockOptions } from "./clock.js";
export * from "./errors.js";

export { sleep, yieldNow } from "./ops/sleep.js";
export { spawn, join, cancel, kill } from "./ops/spawn.js";
export { action, type ActionBody } from "./ops/action.js";
export { wait } from "./ops/wait.js";
export { currentTask, end, call } from "./ops/current.js";
export { timeout, moveOnAfter, shield } from "./scope.js";
export { group, all, race, runAll, Group, type RunAllOptions } from "./group.js";

export { Queue, Channel } from "./sync/queue.js";
export { Event } from "./sync/event.js";
export { Semaphore, Lock } from "./sync/semaphore.js";

export { Conn, type ConnOptions, type RecvOptions } from "./net/conn.js";
export { listen, Listener, type ListenOptions, type ListenAddress } from "./net/listen.js";
export { connect, type ConnectOptions } from "./net/connect.js";
export { serve, acceptLoop, type ServeOptions } from "./net/serve.js";

export { main, type MainOptions } from "./process/main.js";
export { signal, signals, SignalReceiver, SIGNAL_ECHO_MS } from "./process/signal.js";
export { offload, offloadPool, WorkerPool, OffloadError, type WorkerPoolOptions } from "./process/offload.js";
export { tasks, taskTree, findTask, formatTasks, type TaskInfo } from "./insight/tasks.js";
export { remoteConsole, console, isLoopbackHost, ConsoleAddressError, type ConsoleOptions } from "./insight/console.js";
