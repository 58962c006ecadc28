// MtimeGuard
