import type { SqliteDb } from './sqlite-driver.ts'

/** What one `tick` did: the WAL's frames, how many are back in the database file, and whether it restarted. */
export interface WalTick {
  /** Frames in the WAL after the tick. */
  log: number
  /** Of them, frames copied back into the database file. */
  checkpointed: number
  /** A RESTART checkpoint ran: the next write starts the WAL over from its first frame. */
  restarted: boolean
}

export interface WalCheckpointerOptions {
  /** A WAL of this many frames or more is caught up and restarted (default 8192: 32 MiB of 4 KiB pages). */
  restartFrames?: number
  /** Catch-up passes stop once fewer frames than this are left to copy (default 512). */
  catchUpFrames?: number
  /** Catch-up passes before the restart at most (default 4). */
  maxCatchUp?: number
}

/**
 * Checkpoints a store's WAL from a connection of its own, off the writer's thread.
 *
 * A PASSIVE checkpoint copies the frames committed when it starts and never blocks the writer, but
 * SQLite restarts the WAL at the beginning only when a write transaction begins with every frame
 * copied back. Under steady writes a commit always lands while a checkpoint copies, so the WAL grew
 * without end (300 MB in five seconds of the ingest benchmark), and every commit wrote into fresh
 * file blocks the kernel first had to zero. So once the WAL is long, `tick` catches up with further
 * PASSIVE passes (each copies only what was appended during the one before), then runs a RESTART:
 * it holds the write lock only for the last few frames and waits for readers to leave the WAL, and
 * the writer's next transaction starts the file over at its first frame, overwriting blocks that
 * already exist.
 */
export class WalCheckpointer {
  readonly #passive
  readonly #restart
  readonly #restartFrames: number
  readonly #catchUpFrames: number
  readonly #maxCatchUp: number
  /** RESTART checkpoints run so far. */
  restarts = 0

  constructor(db: SqliteDb, options: WalCheckpointerOptions = {}) {
    this.#passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
    this.#restart = db.prepare('PRAGMA wal_checkpoint(RESTART)')
    this.#restartFrames = options.restartFrames ?? 8192
    this.#catchUpFrames = options.catchUpFrames ?? 512
    this.#maxCatchUp = options.maxCatchUp ?? 4
  }

  tick(): WalTick {
    let state = read(this.#passive.get())
    if (state.log < this.#restartFrames)
      return { log: state.log, checkpointed: state.checkpointed, restarted: false }
    for (let i = 0; i < this.#maxCatchUp && state.log - state.checkpointed > this.#catchUpFrames; i++)
      state = read(this.#passive.get())
    const after = read(this.#restart.get())
    // busy: a reader kept its snapshot past the busy timeout; the next tick tries again
    if (!after.busy) this.restarts++
    return { log: after.log, checkpointed: after.checkpointed, restarted: !after.busy }
  }
}

function read(row: unknown): { busy: boolean; log: number; checkpointed: number } {
  const r = row as { busy: number | bigint; log: number | bigint; checkpointed: number | bigint }
  return { busy: Number(r.busy) !== 0, log: Number(r.log), checkpointed: Number(r.checkpointed) }
}
