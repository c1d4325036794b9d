package main

import (
	"strconv"
	"time"
)

// reportDate is the date report.html shows: now, or SOURCE_DATE_EPOCH
// (seconds since 1970, the reproducible-builds convention) when set, so a
// report can be rebuilt byte for byte — a merged one equal to a single run.
func (a *app) reportDate() (time.Time, error) {
	if s := a.getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, usagef("SOURCE_DATE_EPOCH=%q is not a number of seconds", s)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Now().UTC(), nil
}
