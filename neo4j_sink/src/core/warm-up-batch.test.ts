import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { writeStatements } from "./cypher.js";
import {
  listSizeBuckets,
  WARM_UP_BATCH,
  warmUpBatches,
  warmUpBatchOfSize,
} from "./warm-up-batch.js";

/** Neo4j's bucket of a list of `length`: the power of ten it rounds up to. */
const bucketOf = (length: number) => 10 ** Math.ceil(Math.log10(length));

describe("warm-up batches", () => {
  test("one list size per power-of-ten bucket, up to the bucket of the largest transaction", () => {
    assert.deepEqual(listSizeBuckets(1), [1]);
    assert.deepEqual(listSizeBuckets(10), [1, 2]);
    assert.deepEqual(listSizeBuckets(32), [1, 2, 11]);
    assert.deepEqual(listSizeBuckets(100), [1, 2, 11]);
    assert.deepEqual(listSizeBuckets(2000), [1, 2, 11, 101, 1001]);
  });

  test("every length a transaction can reach falls into a warmed bucket", () => {
    for (const max of [1, 7, 16, 32, 500, 2000, 50_000]) {
      const warmed = new Set(listSizeBuckets(max).map(bucketOf));
      for (let length = 1; length <= max; length++) {
        assert.ok(warmed.has(bucketOf(length)), `a list of ${length} (max ${max}) is warmed`);
      }
    }
  });

  test("a batch of a size fills every list, so every write statement runs", () => {
    const batch = warmUpBatchOfSize(11);
    for (const [name, list] of Object.entries(batch)) {
      assert.equal((list as unknown[]).length, 11, name);
    }
    assert.equal(writeStatements(batch).length, writeStatements(WARM_UP_BATCH).length);
    // Small lists until their plans are hot (11 runs), large ones once.
    const sizes = warmUpBatches(2000).map((b) => b.actions.length);
    assert.deepEqual(sizes, [
      ...new Array<number>(11).fill(1),
      ...new Array<number>(11).fill(2),
      ...new Array<number>(11).fill(11),
      101,
      1001,
    ]);
  });
});
