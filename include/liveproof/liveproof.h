/* liveproof C API: face liveness from C (and anything with a C FFI: ctypes, cgo, JNI).
 *
 * Conventions (docs/sdk.md):
 * - Opaque handles (lp_engine, lp_stream, lp_challenge) are created and destroyed by the library;
 *   destroy functions accept NULL.
 * - Every function that can fail returns an lp_status; LP_OK is 0. lp_error_message(status) is a
 *   static text; lp_last_error() is the detail of the last failure on the calling thread (valid
 *   until that thread's next call into the library).
 * - The caller owns every buffer it passes; the library never keeps a pointer past the call,
 *   never allocates memory the caller must free, and never writes past a size it was given.
 *   JSON outputs are NUL-terminated; *needed (if not NULL) receives the size required including
 *   the NUL, and a too-small buffer gives LP_E_BUFFER_TOO_SMALL with nothing written but "".
 * - Structs the caller fills start with struct_size (set it to sizeof, or call the _init
 *   function): fields added later go at the end, so old callers keep working.
 * - No C++ exception crosses this API.
 * - Thread safety: an lp_engine may be used from any number of threads at once (calls beyond
 *   its worker count wait for a free pipeline). An lp_stream or lp_challenge is used by one
 *   thread at a time.
 */
#ifndef LIVEPROOF_LIVEPROOF_H
#define LIVEPROOF_LIVEPROOF_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define LP_API __attribute__((visibility("default")))
#else
#define LP_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Status codes, banded like liveproof::ErrorCode: 1xx input, 2xx image, 3xx video, 4xx models,
 * 5xx use of this API, 9xx internal. */
typedef enum lp_status {
    LP_OK = 0,
    LP_E_INVALID_ARGUMENT = 100,
    LP_E_EMPTY_INPUT = 101,
    LP_E_INPUT_TOO_LARGE = 102,
    LP_E_INVALID_ENCODING = 103,
    LP_E_INVALID_JSON = 104,
    LP_E_TIME_BUDGET_EXCEEDED = 105,
    LP_E_UNSUPPORTED_FORMAT = 200,
    LP_E_IMAGE_TOO_LARGE = 201,
    LP_E_CORRUPT_IMAGE = 202,
    LP_E_VIDEO_UNSUPPORTED = 300,
    LP_E_VIDEO_TOO_LARGE = 301,
    LP_E_VIDEO_TOO_LONG = 302,
    LP_E_VIDEO_UNDECODABLE = 303,
    LP_E_MODEL_MISSING = 400,
    LP_E_MODEL_CORRUPT = 401,
    LP_E_MANIFEST_INVALID = 402,
    LP_E_NULL_POINTER = 500,
    LP_E_BAD_STRUCT_SIZE = 501,
    LP_E_BUFFER_TOO_SMALL = 502,
    LP_E_INTERNAL = 900,
    /* Not a status: makes the enum int-wide, so that any int a caller passes is a value of the
     * type (C++ reads an enum value outside its range as undefined behaviour; UBSan found
     * lp_error_message(12345) and an unknown pixel format doing so). */
    LP_STATUS_FORCE_INT = 0x7fffffff
} lp_status;

/** Static English text for a status (never NULL). */
LP_API const char* lp_error_message(lp_status status);
/** Detail of the last failure on this thread ("" if none). */
LP_API const char* lp_last_error(void);
/** "MAJOR.MINOR.PATCH" of the loaded library. */
LP_API const char* lp_version(void);

/* -- engine ------------------------------------------------------------------------------- */

typedef struct lp_engine lp_engine;

typedef struct lp_engine_options {
    uint32_t struct_size;     /**< sizeof(lp_engine_options) */
    const char* model_dir;    /**< folder with the models and MANIFEST; NULL: $LIVEPROOF_MODEL_DIR */
    int32_t workers;          /**< concurrent analyses; 0 = one per core */
    int32_t detect_max_side;  /**< detector input long side; 0 = full size (default 320) */
    float liveness_threshold; /**< P(real) at or above which a face is real (default 0.5) */
    int32_t max_faces;        /**< faces analysed per image, largest first (default 10) */
} lp_engine_options;

/** Fills the defaults. */
LP_API void lp_engine_options_init(lp_engine_options* options);
/** Loads and verifies the models. On failure *engine is NULL. */
LP_API lp_status lp_engine_create(const lp_engine_options* options, lp_engine** engine);
LP_API void lp_engine_destroy(lp_engine* engine);

/* -- image analysis ----------------------------------------------------------------------- */

#define LP_MAX_FACES 16

typedef enum lp_pixel_format {
    LP_PIXEL_BGR = 0,
    LP_PIXEL_RGB = 1,
    LP_PIXEL_BGRA = 2,
    LP_PIXEL_RGBA = 3,
    LP_PIXEL_FORCE_INT = 0x7fffffff /**< not a format (see LP_STATUS_FORCE_INT) */
} lp_pixel_format;

/** One face. Optional values come with a has_ flag (0: the stage did not run). */
typedef struct lp_face {
    float x1, y1, x2, y2; /**< box in upright image pixels */
    float score;          /**< detector confidence */
    float eye_dist;       /**< pixels between the eyes */
    int32_t is_small;     /**< eye distance below the small-face limit */
    int32_t is_boundary;  /**< box at an image edge */
    int32_t has_pose;
    float yaw, pitch, roll; /**< degrees (docs/attributes.md) */
    int32_t has_p_real;
    float p_real; /**< passive P(real), MiniFASNet ensemble */
    int32_t is_real; /**< p_real >= the engine's liveness threshold */
    int32_t has_eyes;
    float eyes_closed; /**< mean closed score of both eyes, 0..1 */
    int32_t has_quality;
    float quality, sharpness, occlusion; /**< 0..1 */
    float luminance;                     /**< mean grey level of the face, 0..255 */
} lp_face;

typedef struct lp_image_result {
    uint32_t struct_size; /**< sizeof(lp_image_result), set by the caller */
    int32_t width, height;
    int32_t face_count;            /**< faces found (may exceed LP_MAX_FACES) */
    lp_face faces[LP_MAX_FACES];   /**< the first min(face_count, LP_MAX_FACES), largest first */
} lp_image_result;

/** What an analysis computes; lp_analysis_init fills everything on. The face mesh runs (and
 * confirms each detection) only when pose, eyes or quality is on: antispoof alone is the passive
 * check, detection and the MiniFASNet ensemble, as system B's /liveness. */
typedef struct lp_analysis {
    uint32_t struct_size;
    int32_t antispoof; /**< passive liveness */
    int32_t pose;
    int32_t eyes;      /**< iris-model eye closure (~11 ms per face) */
    int32_t quality;
} lp_analysis;
LP_API void lp_analysis_init(lp_analysis* what);

/** Decodes an encoded image (JPEG, PNG, BMP, WebP) and analyses every face. what may be NULL
 * (everything). */
LP_API lp_status lp_analyze_image(lp_engine* engine, const uint8_t* bytes, size_t size,
                                  const lp_analysis* what, lp_image_result* result);
/** Analyses raw pixels (8-bit, rows of stride bytes). */
LP_API lp_status lp_analyze_pixels(lp_engine* engine, const uint8_t* pixels, int32_t width,
                                   int32_t height, size_t stride, lp_pixel_format format,
                                   const lp_analysis* what, lp_image_result* result);
/** lp_analyze_image with the full result as JSON (the shape of POST /v1/analyze). The JSON holds
 * the stage timings, so its size varies by a few bytes from call to call: leave room. */
LP_API lp_status lp_analyze_image_json(lp_engine* engine, const uint8_t* bytes, size_t size,
                                       char* json, size_t json_size, size_t* needed);

/* -- blink video -------------------------------------------------------------------------- */

typedef struct lp_blink_result {
    uint32_t struct_size;
    int32_t passed;          /**< blinked, one consistent live face */
    int32_t blink_count;
    int32_t frames_decoded;
    int32_t frames_with_face;
    float mean_p_real;       /**< passive evidence over the sampled frames */
    char reason[32];         /**< "" when passed, else e.g. "no_blink", "spoof_detected" */
} lp_blink_result;

/** Checks a short video (MP4/MOV, WebM/MKV, AVI) for blinks by one live face. */
LP_API lp_status lp_blink_video(lp_engine* engine, const uint8_t* bytes, size_t size,
                                lp_blink_result* result);

/* -- streams (live camera frames) --------------------------------------------------------- */

typedef struct lp_stream lp_stream;

/** One frame of a stream. */
typedef struct lp_observation {
    uint32_t struct_size;
    int32_t face_count;
    int32_t tracked;   /**< followed from the previous frame (detector skipped) */
    int32_t face_jump; /**< the face moved too far since the last detection: another face */
    int32_t has_face;
    lp_face face;      /**< the main face, when has_face */
} lp_observation;

/** A stream over engine (which must outlive it), with the WebSocket challenge's defaults;
 * eyes != 0 adds eye closure to every frame. */
LP_API lp_status lp_stream_create(lp_engine* engine, int32_t eyes, lp_stream** stream);
LP_API void lp_stream_destroy(lp_stream* stream);
/** Feeds one encoded frame taken at t_seconds (increasing). */
LP_API lp_status lp_stream_feed_image(lp_stream* stream, const uint8_t* bytes, size_t size,
                                      double t_seconds, lp_observation* observation);
LP_API lp_status lp_stream_feed_pixels(lp_stream* stream, const uint8_t* pixels, int32_t width,
                                       int32_t height, size_t stride, lp_pixel_format format,
                                       double t_seconds, lp_observation* observation);

/* -- active challenge (system A's protocol, without a socket) ----------------------------- */

typedef struct lp_challenge lp_challenge;

typedef struct lp_challenge_options {
    uint32_t struct_size;
    const char* challenges;     /**< e.g. "LEFT,RIGHT,UP,DOWN" (default), BLINK optional */
    int32_t required_successes; /**< default 3 */
    double challenge_timeout_s; /**< default 5 */
    double session_timeout_s;   /**< default 30 */
    int32_t max_wrong_attempts; /**< default 1 */
    int32_t mirrored;           /**< frames are mirrored (selfie view): LEFT and RIGHT swap */
} lp_challenge_options;
LP_API void lp_challenge_options_init(lp_challenge_options* options);

typedef enum lp_challenge_state {
    LP_CHALLENGE_RUNNING = 0,
    LP_CHALLENGE_COMPLETE = 1, /**< live: every challenge passed and the passive evidence agreed */
    LP_CHALLENGE_FAILED = 2
} lp_challenge_state;

/** A challenge session over engine; its clock is the t_seconds of the calls below. */
LP_API lp_status lp_challenge_create(lp_engine* engine, const lp_challenge_options* options,
                                     lp_challenge** challenge);
LP_API void lp_challenge_destroy(lp_challenge* challenge);
/** Starts the session at t_seconds; json receives system A's "start" message. */
LP_API lp_status lp_challenge_start(lp_challenge* challenge, double t_seconds, char* json,
                                    size_t json_size, size_t* needed);
/** Feeds one encoded frame; json receives A's reply to it ("" when there is none). The session
 * advances even when json is too small (LP_E_BUFFER_TOO_SMALL): fetch that reply again with
 * lp_challenge_last_reply. A's replies fit in LP_CHALLENGE_JSON_SIZE bytes. */
#define LP_CHALLENGE_JSON_SIZE 1024
LP_API lp_status lp_challenge_feed_image(lp_challenge* challenge, const uint8_t* bytes, size_t size,
                                         double t_seconds, char* json, size_t json_size,
                                         size_t* needed);
/** Checks the timeouts at t_seconds without a frame; json as lp_challenge_feed_image. */
LP_API lp_status lp_challenge_tick(lp_challenge* challenge, double t_seconds, char* json,
                                   size_t json_size, size_t* needed);
/** The last reply again (after LP_E_BUFFER_TOO_SMALL). */
LP_API lp_status lp_challenge_last_reply(const lp_challenge* challenge, char* json,
                                         size_t json_size, size_t* needed);
/** RUNNING, COMPLETE or FAILED; FAILED for NULL. */
LP_API lp_challenge_state lp_challenge_get_state(const lp_challenge* challenge);

#ifdef __cplusplus
}
#endif

#endif /* LIVEPROOF_LIVEPROOF_H */
