/** A calendar date and time of day, as numbers (month 1-12), read from a pattern's groups. */
export interface DateTimeFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/**
 * The six numbers of a date-time pattern's groups `first` .. `first + 5` (year, month, day,
 * hour, minute, second), for the formats that `Date.parse` must not read: it accepts other
 * forms and rolls over impossible dates such as February 30.
 */
export function dateTimeFields(match: RegExpExecArray, first = 1): DateTimeFields {
  const [year, month, day, hour, minute, second] = match.slice(first, first + 6).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { year, month, day, hour, minute, second };
}
