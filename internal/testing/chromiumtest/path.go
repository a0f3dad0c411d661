package chromiumtest

// Path is the Chromium executable, for tests that drive it themselves
// through the DevTools protocol (chromedp).
func (b *Browser) Path() string { return b.path }
