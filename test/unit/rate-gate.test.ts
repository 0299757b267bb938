import { describe, expect, it } from "vitest";
import { RateGate } from "../../src/delivery/rate-gate.js";

describe("rate gate (client-side limits over a sliding window)", () => {
  it("scales a per-minute limit to its window and frees room when a charge leaves it", () => {
    const gate = new RateGate({ perMinute: 600, perKeyPerMinute: 60 }, 1_000); // 10 and 1 per second
    expect(gate.appRoom(0)).toBe(10);
    const c = gate.charge(4, new Map([["a", 1]]));
    expect(gate.appRoom(0)).toBe(6);
    expect(gate.keyRoom("a", 0)).toBe(0);
    expect(gate.keyRoom("b", 0)).toBe(1);
    gate.answered(c, 100);
    expect(gate.appRoom(1_099)).toBe(6);
    expect(gate.appRoom(1_100)).toBe(10);
    expect(gate.keyRoom("a", 1_100)).toBe(1);
  });

  it("counts a batch not answered yet as sent now, however long it takes (the partner may count it when it lands)", () => {
    const gate = new RateGate({ perMinute: 600 }, 1_000);
    const c = gate.charge(10, new Map());
    expect(gate.appRoom(5_000)).toBe(0);
    expect(gate.nextRoomAt(5_000, [])).toBe(Infinity);
    gate.answered(c, 5_000);
    expect(gate.nextRoomAt(5_000, [])).toBe(6_000);
    expect(gate.appRoom(6_000)).toBe(10);
  });

  it("keeps the window's charges in answer order when batches are answered out of order", () => {
    const gate = new RateGate({ perMinute: 600, perKeyPerMinute: 600 }, 1_000);
    const first = gate.charge(3, new Map([["k", 3]]));
    const second = gate.charge(3, new Map([["k", 3]]));
    gate.answered(second, 100);
    gate.answered(first, 900);
    expect(gate.appRoom(1_100)).toBe(7); // the second left the window, the first is still in it
    expect(gate.keyRoom("k", 1_100)).toBe(7);
    expect(gate.appRoom(1_900)).toBe(10);
  });

  it("forgets keys with nothing in the window", () => {
    const gate = new RateGate({ perMinute: 6_000, perKeyPerMinute: 60 }, 1_000);
    for (let i = 0; i < 50; i++) gate.answered(gate.charge(1, new Map([[`user-${i}`, 1]])), 0);
    expect(gate.keyRoom("user-1", 500)).toBe(0);
    expect(gate.trackedKeys).toBe(50);
    gate.answered(gate.charge(1, new Map([["late", 1]])), 5_000);
    expect(gate.trackedKeys).toBe(1);
    expect(gate.keyRoom("user-1", 5_000)).toBe(1);
  });
});
