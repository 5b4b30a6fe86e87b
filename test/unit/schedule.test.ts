import { describe, expect, it } from "vitest";
import { intersectWindows } from "../../src/orders/schedule.js";

describe("intersectWindows", () => {
  it("keeps the time every list covers", () => {
    const early = [{ from: 0, to: 10 }, { from: 20, to: 30 }];
    const shifted = [{ from: 5, to: 25 }, { from: 28, to: 40 }];
    const maintenance = [{ from: 0, to: 7 }, { from: 8, to: 100 }];
    expect(intersectWindows([early, shifted, maintenance])).toEqual([{ from: 5, to: 7 }, { from: 8, to: 10 }, { from: 20, to: 25 }, { from: 28, to: 30 }]);
  });

  it("is the list itself for one list, and nothing for none", () => {
    expect(intersectWindows([[{ from: 1, to: 2 }]])).toEqual([{ from: 1, to: 2 }]);
    expect(intersectWindows([])).toEqual([]);
  });
});
