package objectstore

import "time"

func timeOf(unix int64) string { return time.Unix(unix, 0).UTC().String() }
