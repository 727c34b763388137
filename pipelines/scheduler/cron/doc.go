// Package cron parses the five-field cron expressions of the scheduler's job declarations
// (minute hour day-of-month month day-of-week, with *, ranges a-b, steps */n and a-b/n, lists
// a,b,c, month and weekday names JAN…DEC and SUN…SAT, 7 as Sunday, and the macros @yearly,
// @monthly, @weekly, @daily, @midnight and @hourly) and computes when a schedule next fires in a
// given time zone. It follows Vixie cron: when both day fields are restricted, a day matches if
// either does. A wall-clock time that does not exist in the zone (a daylight-saving gap) is not a
// firing. It knows nothing of jobs, runs or storage, and it must not read the clock: callers pass
// the time.
package cron
