import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMetrics } from "./metrics.js";

describe("exporter metrics", () => {
  test("one project: no project labels; several: every series labelled project and region", async () => {
    const metrics = createMetrics(() => 1_700_000_060_000);
    metrics.eventsDelivered(2, 202);
    const backup = metrics.forProject({ project: "p-backup", region: "eu-nl" });
    backup.eventsDelivered(3, 202);
    backup.eventsDeadLettered(1, "rejected_400");
    backup.checkpointMoved(1_700_000_000_000);
    const text = await metrics.registry.metrics();
    assert.match(text, /^cts_exporter_events_delivered_total\{status="202"\} 2$/m);
    assert.match(
      text,
      /^cts_exporter_events_delivered_total\{project="p-backup",region="eu-nl",status="202"\} 3$/m,
    );
    assert.match(
      text,
      /^cts_exporter_events_dead_lettered_total\{project="p-backup",region="eu-nl",reason="rejected_400"\} 1$/m,
    );
    assert.match(
      text,
      /^cts_exporter_checkpoint_age_seconds\{project="p-backup",region="eu-nl"\} 60$/m,
    );
  });
});
