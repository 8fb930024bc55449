package credential

import (
	"time"

	"github.com/kubemint/kubemint/cache"
)

// The client margin is token policy, decided here for both binaries: the
// cache only knows when an entry is fresh (cache.Entry.Fresh); when it is
// handed out depends on what the clients that run kubemint want left.

// ClientMargin is how much life the strictest common client wants left in
// a credential: the Python client counts one that expires within 5 minutes
// as expired, and runs the plugin again on every request until it gets one
// that does not.
const ClientMargin = 5 * time.Minute

// HandOffAt is the moment from which a call re-mints rather than serve e:
// ClientMargin before its refresh point, so that every credential handed
// out has more than ClientMargin left before its expirationTimestamp and a
// client like Python's runs kubemint once, not on every request. For a
// short-lived token the window is at most half of the time from issue to
// refresh point, so that a new token does not fall into it at once (a mint
// per call). kubectl, which keeps a credential until its
// expirationTimestamp, is not affected but for processes that start in the
// window: they mint a few minutes early.
func HandOffAt(e cache.Entry, margin time.Duration) time.Time {
	refresh := e.RefreshAt(margin)
	window := min(ClientMargin, refresh.Sub(e.Issued)/2)
	return refresh.Add(-window)
}

// Servable reports whether a call at now may be answered with e: it is
// fresh and not yet at its hand-off point (see HandOffAt).
func Servable(e cache.Entry, now time.Time, margin time.Duration) bool {
	return !e.FromTheFuture(now) && now.Before(HandOffAt(e, margin))
}
