/* The C API from C: every error path answered with its code, and the samples analysed as
 * `liveproof analyze` does (the expected values are passed on the command line by ctest from a
 * run of the binary). Usage: capi_test MODEL_DIR SHARED_DIR */
#include <liveproof/liveproof.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #cond, lp_last_error());                                 \
            ++failures;                                                      \
        }                                                                    \
    } while (0)

static unsigned char* read_file(const char* path, size_t* size) {
    FILE* f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char* data = malloc((size_t)n);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL_DIR SHARED_DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    CHECK(strcmp(lp_version(), "") != 0);
    CHECK(strcmp(lp_error_message(LP_E_BUFFER_TOO_SMALL), "buffer too small") == 0);
    CHECK(strcmp(lp_error_message((lp_status)12345), "unknown status") == 0);

    /* Creation errors. */
    lp_engine* engine = (lp_engine*)1;
    CHECK(lp_engine_create(NULL, &engine) == LP_E_NULL_POINTER && engine == NULL);
    CHECK(lp_engine_create(NULL, NULL) == LP_E_NULL_POINTER);
    lp_engine_options options;
    lp_engine_options_init(&options);
    options.struct_size = 4;
    CHECK(lp_engine_create(&options, &engine) == LP_E_BAD_STRUCT_SIZE);
    lp_engine_options_init(&options);
    options.model_dir = "/nonexistent/models";
    CHECK(lp_engine_create(&options, &engine) == LP_E_MANIFEST_INVALID ||
          lp_engine_create(&options, &engine) == LP_E_MODEL_MISSING);
    CHECK(strlen(lp_last_error()) > 0);
    options.model_dir = argv[1];
    options.liveness_threshold = 2.0f;
    CHECK(lp_engine_create(&options, &engine) == LP_E_INVALID_ARGUMENT);
    lp_engine_options_init(&options);
    options.model_dir = argv[1];
    options.workers = 1;
    CHECK(lp_engine_create(&options, &engine) == LP_OK && engine != NULL);
    if (!engine) return 1;

    /* Image analysis: the sample, then every kind of bad input. */
    size_t size = 0;
    snprintf(path, sizeof path, "%s/models/samples/image_T1.jpg", argv[2]);
    unsigned char* t1 = read_file(path, &size);
    CHECK(t1 != NULL);
    lp_image_result result;
    memset(&result, 0, sizeof result);
    result.struct_size = sizeof result;
    CHECK(lp_analyze_image(engine, t1, size, NULL, &result) == LP_OK);
    CHECK(result.face_count == 1);
    CHECK(result.faces[0].has_p_real && result.faces[0].p_real > 0.5f && result.faces[0].is_real);
    CHECK(result.faces[0].has_pose && result.faces[0].has_eyes && result.faces[0].has_quality);
    printf("T1: %d face(s), p_real %.4f, yaw %.2f\n", result.face_count, result.faces[0].p_real,
           result.faces[0].yaw);
    const float p_real = result.faces[0].p_real;

    CHECK(lp_analyze_image(NULL, t1, size, NULL, &result) == LP_E_NULL_POINTER);
    CHECK(lp_analyze_image(engine, t1, size, NULL, NULL) == LP_E_NULL_POINTER);
    CHECK(lp_analyze_image(engine, NULL, 10, NULL, &result) == LP_E_NULL_POINTER);
    CHECK(lp_analyze_image(engine, t1, 0, NULL, &result) == LP_E_EMPTY_INPUT);
    CHECK(lp_analyze_image(engine, t1, 100, NULL, &result) == LP_E_CORRUPT_IMAGE);
    const unsigned char text[] = "not an image at all";
    CHECK(lp_analyze_image(engine, text, sizeof text, NULL, &result) == LP_E_UNSUPPORTED_FORMAT);
    result.struct_size = 8;
    CHECK(lp_analyze_image(engine, t1, size, NULL, &result) == LP_E_BAD_STRUCT_SIZE);
    result.struct_size = sizeof result;
    lp_analysis what;
    lp_analysis_init(&what);
    what.antispoof = 0;
    CHECK(lp_analyze_image(engine, t1, size, &what, &result) == LP_OK);
    CHECK(result.face_count == 1 && !result.faces[0].has_p_real);

    /* JSON output: too small, then exact. */
    char small[16];
    size_t needed = 0;
    CHECK(lp_analyze_image_json(engine, t1, size, small, sizeof small, &needed) ==
          LP_E_BUFFER_TOO_SMALL);
    CHECK(needed > sizeof small && small[0] == '\0');
    /* The size may differ by a few bytes between calls: the JSON holds the stage timings. */
    const size_t room = needed + 256;
    char* json = malloc(room);
    CHECK(lp_analyze_image_json(engine, t1, size, json, room, &needed) == LP_OK);
    CHECK(strlen(json) + 1 == needed && strstr(json, "\"faces\"") != NULL);
    CHECK(lp_analyze_image_json(engine, t1, size, NULL, 0, &needed) == LP_E_BUFFER_TOO_SMALL);
    free(json);

    /* Raw pixels: a grey image has no face; bad sizes and strides are refused. */
    enum { W = 64, H = 48 };
    static unsigned char grey[W * H * 4];
    memset(grey, 128, sizeof grey);
    CHECK(lp_analyze_pixels(engine, grey, W, H, W * 3, LP_PIXEL_BGR, NULL, &result) == LP_OK);
    CHECK(result.face_count == 0 && result.width == W && result.height == H);
    CHECK(lp_analyze_pixels(engine, grey, W, H, W * 4, LP_PIXEL_RGBA, NULL, &result) == LP_OK);
    CHECK(lp_analyze_pixels(engine, grey, W, H, W * 3 - 1, LP_PIXEL_BGR, NULL, &result) ==
          LP_E_INVALID_ARGUMENT);
    CHECK(lp_analyze_pixels(engine, grey, W, H, W * 3, LP_PIXEL_RGBA, NULL, &result) ==
          LP_E_INVALID_ARGUMENT);
    CHECK(lp_analyze_pixels(engine, grey, 0, H, W * 3, LP_PIXEL_BGR, NULL, &result) ==
          LP_E_INVALID_ARGUMENT);
    CHECK(lp_analyze_pixels(engine, grey, W, H, W * 3, (lp_pixel_format)9, NULL, &result) ==
          LP_E_INVALID_ARGUMENT);

    /* Blink video: the wolf clip passes; text is not a video. */
    snprintf(path, sizeof path, "%s/data/video/wolf_live_blinks.mp4", argv[2]);
    size_t vsize = 0;
    /* LP_TEST_QUICK (the valgrind run): skip the clip, 130 analysed frames. */
    unsigned char* video = getenv("LP_TEST_QUICK") ? NULL : read_file(path, &vsize);
    lp_blink_result blink;
    memset(&blink, 0, sizeof blink);
    blink.struct_size = sizeof blink;
    if (video) {
        CHECK(lp_blink_video(engine, video, vsize, &blink) == LP_OK);
        CHECK(blink.passed && blink.blink_count == 3 && blink.frames_decoded == 130);
        CHECK(blink.reason[0] == '\0');
    }
    CHECK(lp_blink_video(engine, text, sizeof text, &blink) == LP_E_VIDEO_UNSUPPORTED);

    /* Stream: the same image twice is one face, detected then tracked. */
    lp_stream* stream = NULL;
    CHECK(lp_stream_create(NULL, 0, &stream) == LP_E_NULL_POINTER && stream == NULL);
    CHECK(lp_stream_create(engine, 0, &stream) == LP_OK);
    lp_observation obs;
    memset(&obs, 0, sizeof obs);
    obs.struct_size = sizeof obs;
    CHECK(lp_stream_feed_image(stream, t1, size, 0.0, &obs) == LP_OK);
    CHECK(obs.face_count == 1 && obs.has_face && !obs.tracked && !obs.face_jump);
    CHECK(lp_stream_feed_image(stream, t1, size, 0.1, &obs) == LP_OK);
    CHECK(obs.face_count == 1 && obs.tracked);
    CHECK(lp_stream_feed_image(stream, text, sizeof text, 0.2, &obs) == LP_E_UNSUPPORTED_FORMAT);
    lp_stream_destroy(stream);
    lp_stream_destroy(NULL);

    /* Challenge: A's start message, then a reply per frame. */
    lp_challenge_options copts;
    lp_challenge_options_init(&copts);
    copts.challenges = "SIDEWAYS";
    lp_challenge* ch = NULL;
    CHECK(lp_challenge_create(engine, &copts, &ch) == LP_E_INVALID_ARGUMENT && ch == NULL);
    lp_challenge_options_init(&copts);
    CHECK(lp_challenge_create(engine, &copts, &ch) == LP_OK);
    char reply[LP_CHALLENGE_JSON_SIZE];
    CHECK(lp_challenge_feed_image(ch, t1, size, 0.0, reply, sizeof reply, NULL) ==
          LP_E_INVALID_ARGUMENT);
    CHECK(lp_challenge_start(ch, 0.0, reply, sizeof reply, NULL) == LP_OK);
    CHECK(strstr(reply, "\"start\"") != NULL);
    CHECK(lp_challenge_feed_image(ch, t1, size, 0.1, small, 4, &needed) == LP_E_BUFFER_TOO_SMALL);
    CHECK(lp_challenge_last_reply(ch, reply, sizeof reply, NULL) == LP_OK && reply[0] == '{');
    CHECK(lp_challenge_get_state(ch) == LP_CHALLENGE_RUNNING);
    CHECK(lp_challenge_tick(ch, 100.0, reply, sizeof reply, NULL) == LP_OK);
    CHECK(strstr(reply, "\"failed\"") != NULL);
    CHECK(lp_challenge_get_state(ch) == LP_CHALLENGE_FAILED);
    CHECK(lp_challenge_get_state(NULL) == LP_CHALLENGE_FAILED);
    lp_challenge_destroy(ch);

    printf("p_real=%.6f\n", p_real);
    free(video);
    free(t1);
    lp_engine_destroy(engine);
    lp_engine_destroy(NULL);
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
