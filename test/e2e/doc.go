// Package e2e holds whole-server tests driven through real clients: the
// stage and player pages in headless Chromium (chromedp, fake camera and
// microphone), ffmpeg publishers and the official SDK clients. Every test
// starts its own server in-process on 127.0.0.1 (internal/testutil) and
// skips with a reason when Chromium or ffmpeg is missing; `make test`
// installs both.
package e2e
