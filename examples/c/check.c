/* Checks image files for a live face through the C ABI and prints one line per image, as
 * `liveshade check` does: `path: verdict (live 0.9912)`. Build and run (tools/test.sh does):
 *   cargo build -p liveshade-c
 *   cc examples/c/check.c -Iinclude -Ltarget/debug -lliveshade_c -o check
 *   LD_LIBRARY_PATH=target/debug ./check samples/live_T1.jpg ...                             */
#include <stdio.h>
#include "liveshade.h"

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, liveshade_last_error());
    return 2;
}

int main(int argc, char **argv) {
    LiveshadeEngine *engine = NULL;
    if (liveshade_engine_new(NULL, &engine) != LIVESHADE_OK) return fail("engine");
    static LiveshadeReport report; /* 5.6 KB with the landmarks: not on the stack */
    int status = 0;
    for (int i = 1; i < argc; i++) {
        LiveshadeImage *image = NULL;
        if (liveshade_image_load(argv[i], &image) != LIVESHADE_OK) {
            status = fail(argv[i]);
            continue;
        }
        uint32_t width = 0, height = 0;
        const uint8_t *rgb = liveshade_image_pixels(image, &width, &height);
        int checked = liveshade_check(engine, rgb, width, height, width * 3, LIVESHADE_PIXEL_FORMAT_RGB8, &report);
        liveshade_image_free(image); /* zeroes the pixels */
        if (checked != LIVESHADE_OK) {
            status = fail(argv[i]);
            continue;
        }
        if (report.verdict == LIVESHADE_VERDICT_NO_FACE) {
            printf("%s: no_face\n", argv[i]);
        } else {
            const LiveshadeFace *best = &report.faces[0];
            /* inconclusive: the face fails a quality gate (report.reasons has the bits). */
            const char *verdict = report.verdict == LIVESHADE_VERDICT_LIVE    ? "live"
                                  : report.verdict == LIVESHADE_VERDICT_SPOOF ? "spoof"
                                                                              : "inconclusive";
            printf("%s: %s (live %.4f)\n", argv[i], verdict, best->live);
        }
    }
    /* The error paths free nothing they did not make: a NULL engine, a wrong size. */
    char *json = NULL;
    if (liveshade_check_json(NULL, NULL, 0, 0, 0, 0, &json) == LIVESHADE_OK) status = 3;
    if (liveshade_check_json(engine, (const uint8_t *)"", 4, 4, 2, LIVESHADE_PIXEL_FORMAT_RGB8, &json) == LIVESHADE_OK) status = 3;
    liveshade_engine_free(engine);
    liveshade_engine_free(engine); /* a second free is refused, not a crash */
    return status;
}
