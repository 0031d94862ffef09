/**
 * What a platform step changes, as resolved from the live object before anyone approves: what runs
 * now, the exact target, and the pin that lets every later attempt reach that same target. Kept in
 * the rollback's state, shown on the card, and bound into the digest an approval is given for.
 */
/** What runs now, or what a step will restore: as the card shows it. */
export interface TargetState {
  /** Revision number, task definition `family:revision`, or flag state. */
  revision?: string;
  /** The version it runs (an image tag), when it can be told. */
  version?: string;
  images: string[];
}

/** What a platform step will change, read from the live object without changing it. */
export interface StepTarget {
  /** The object acted on, as people name it: `deployment checkout/api`. */
  object: string;
  current: TargetState;
  target: TargetState;
  /**
   * What a later attempt needs to reach exactly this target without choosing again, and to tell
   * the start from the target: e.g. `{ from: <pod-template-hash>, to: <pod-template-hash> }`, or
   * task definition ARNs. JSON values only: it is stored in the rollback.
   */
  pin: Record<string, string | number | boolean>;
}

