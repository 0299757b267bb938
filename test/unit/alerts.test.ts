import { describe, expect, it } from "vitest";
import { nextFiring } from "../../src/currents/alerts.js";

describe("alert hysteresis", () => {
  it("fires at the threshold, stays firing until the value is under half of it, and does not fire again until it reaches the threshold", () => {
    const run = (values: Array<number | null>) => {
      let firing = false;
      return values.map((v) => (firing = nextFiring("oldest_pending", firing, v, 10)));
    };
    expect(run([3, 9, 10, 7, 5, 4, 7, 9, 12])).toEqual([false, false, true, true, true, false, false, false, true]);
    // An unknown value (too few attempts to say a rate) changes nothing.
    expect(run([10, null, null, 2])).toEqual([true, true, true, false]);
  });

  it("dead letters recover as soon as fewer than the threshold are held (redriven or discarded)", () => {
    expect(nextFiring("dead_letters", false, 5, 5)).toBe(true);
    expect(nextFiring("dead_letters", true, 4, 5)).toBe(false);
  });
});
