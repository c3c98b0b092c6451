/* Preloaded for the leak check (tools/test.sh): dlclose does nothing, so the Vulkan
 * driver is still mapped when LeakSanitizer runs at exit and its leaks are attributed to
 * it (and suppressed by tools/leaks/lsan.supp) instead of to "<unknown module>". */
int dlclose(void *handle) {
    (void)handle;
    return 0;
}
