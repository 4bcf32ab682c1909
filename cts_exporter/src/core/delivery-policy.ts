/**
 * What a sink's answer means for delivery. Retried, per the Knative data-plane contract:
 * network errors, 404, 408, 409, 429 and 5xx. A 400 is the one answer that condemns the event
 * itself ("rejected": it goes to the dead-letter file). Every other status (401, 403, 405, 413
 * for a single event, 415, 431, other 4xx, 3xx) says the sink or its configuration is wrong
 * ("refused"): sending another event cannot help and dropping this one would lose it, so the
 * cycle fails and the checkpoint stays until an operator fixes the sink.
 */
type DeliveryOutcome = "delivered" | "retry" | "rejected" | "refused";

export function classifyStatus(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 404 || status === 408 || status === 409 || status === 429 || status >= 500)
    return "retry";
  if (status === 400) return "rejected";
  return "refused";
}
