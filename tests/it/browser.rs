//! `kapok serve` in headless Chromium, driven over the DevTools protocol.
