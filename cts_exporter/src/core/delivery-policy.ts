/**
 * What a sink's answer means for delivery, per the Knative data-plane contract: retry network
 * errors, 404, 408, 409, 429 and 5xx; never retry 3xx or other 4xx (log them instead).
 */
type DeliveryOutcome = "delivered" | "retry" | "rejected";

export function classifyStatus(status: number): DeliveryOutcome {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 404 || status === 408 || status === 409 || status === 429 || status >= 500)
    return "retry";
  return "rejected";
}
