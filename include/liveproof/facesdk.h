/* System C's SDK ABI (Faceplugin / KBY-AI "facesdk.h", docs/compat.md §3.4 and §3.8), served by
 * liveproof's engine: libfacesdk.so, also installed as faceplugin.so (the name C's facesdk.py
 * loads) and libFaceLivenessSDK.so (the newer rewrite's). The signatures, the FaceBox layout
 * (604 bytes, field order is ABI) and the SDK_ERROR codes are C's; docs/sdk.md says where
 * liveproof differs (models, licence key, extra error codes).
 *
 * Thread safety: faceDetection and FaceSDK_liveness_all may run on any number of threads at
 * once; setActivation, initSDK and their FaceSDK_ twins may be called at any time (a second
 * initSDK with the same folder keeps the loaded engine). No C++ exception crosses this ABI.
 */
#ifndef LIVEPROOF_FACESDK_H
#define LIVEPROOF_FACESDK_H

#if defined(__GNUC__)
#define FACESDK_API __attribute__((visibility("default")))
#else
#define FACESDK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum SDK_ERROR {
    SDK_SUCCESS = 0,
    SDK_LICENSE_KEY_ERROR = -1,
    SDK_LICENSE_APPID_ERROR = -2, /* C's; never returned here */
    SDK_LICENSE_EXPIRED = -3,
    SDK_NO_ACTIVATED = -4,
    SDK_INIT_ERROR = -5,
    /* liveproof's additions (C has no code for these): */
    SDK_PARAM_ERROR = -6,      /* a NULL pointer, a size <= 0, a too-large image */
    SDK_IMAGE_ERROR = -7,      /* bytes that are not a decodable image (FaceSDK_liveness_all) */
    SDK_BUFFER_TOO_SMALL = -8, /* the output does not fit (never written past) */
    SDK_INTERNAL_ERROR = -9
};

/* One face, exactly C's layout: 4 ints + 11 floats + 136 floats = 604 bytes. Boxes and landmarks
 * are in pixels of the buffer passed in; angles in degrees; the other floats 0..1, except
 * face_luminance (0..255) and eye_dist (pixels). landmark_68 is x0, y0, x1, y1, ... in iBUG
 * 68-point order. */
typedef struct {
    int x1, y1, x2, y2;
    float liveness;
    float yaw, roll, pitch;
    float face_quality, face_luminance, eye_dist;
    float left_eye_closed, right_eye_closed, face_occlusion, mouth_opened;
    float landmark_68[136];
} FaceBox;

/* The machine code licences are bound to ("LP1-" + 32 hex). Static storage; never NULL. */
FACESDK_API const char* getMachineCode(void);
/* Checks a licence (base64url payload "." base64url Ed25519 signature) against the public key in
 * $LIVEPROOF_LICENCE_PUBLIC_KEY. Without that variable enforcement is off and any licence is
 * accepted (0). Returns SDK_SUCCESS, SDK_LICENSE_KEY_ERROR or SDK_LICENSE_EXPIRED. */
FACESDK_API int setActivation(char* license);
/* Loads and verifies liveproof's models: from modelPath when it holds liveproof's MANIFEST,
 * else from $LIVEPROOF_MODEL_DIR, else from the installed models folder. Returns SDK_SUCCESS,
 * SDK_INIT_ERROR (the reason goes to stderr), or SDK_NO_ACTIVATED when a licence is required
 * and none was accepted (the models are loaded all the same). */
FACESDK_API int initSDK(char* modelPath);
/* Analyses packed RGB pixels (width * 3 bytes per row) and fills up to faceBoxCount boxes,
 * largest face first. Returns the number of faces written (0..faceBoxCount), or a negative
 * SDK_ERROR: SDK_INIT_ERROR before initSDK, SDK_NO_ACTIVATED, SDK_PARAM_ERROR. */
FACESDK_API int faceDetection(unsigned char* rgbData, int width, int height, FaceBox* faceBoxes,
                              int faceBoxCount);

/* The newer rewrite's ABI (docs/compat.md §3.8). */
#define FACESDK_MACHINE_CODE_BUFFER 768
#define FACESDK_JSON_BUFFER (2 * 1024 * 1024)
/* initSDK from $LIVEPROOF_MODEL_DIR (else the installed models). */
FACESDK_API int FaceSDK_initSDK(void);
/* setActivation with the text of the file at license_path (SDK_LICENSE_KEY_ERROR if it cannot
 * be read). */
FACESDK_API int FaceSDK_activate(const char* license_path);
/* Writes the NUL-terminated machine code into buf, which holds FACESDK_MACHINE_CODE_BUFFER bytes.
 */
FACESDK_API int FaceSDK_getMachineCode(char* buf);
/* Decodes one encoded image (JPEG, PNG, BMP, WebP) of len bytes and writes into out_json (which
 * holds FACESDK_JSON_BUFFER bytes) a NUL-terminated JSON object:
 * {"score": P(real) of the largest face (0 if none), "result": "Real" | "Spoof" | "No face",
 *  "pass": score >= 0.5, "face_count": n}. Returns SDK_SUCCESS or a negative SDK_ERROR. */
FACESDK_API int FaceSDK_liveness_all(const char* jpeg, int len, char* out_json);

#ifdef __cplusplus
}
#endif

#endif /* LIVEPROOF_FACESDK_H */
