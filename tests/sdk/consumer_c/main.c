/* An out-of-tree C program built with pkg-config against the installed SDK: prints
 * "FILE FACES P_REAL" per image (P_REAL of the largest face, -1 without one). */
#include <liveproof/liveproof.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL_DIR IMAGE...\n", argv[0]);
        return 2;
    }
    lp_engine_options options;
    lp_engine_options_init(&options);
    options.model_dir = argv[1];
    options.workers = 1;
    lp_engine* engine = NULL;
    lp_status s = lp_engine_create(&options, &engine);
    if (s != LP_OK) {
        fprintf(stderr, "lp_engine_create: %s: %s\n", lp_error_message(s), lp_last_error());
        return 1;
    }
    int status = 0;
    for (int i = 2; i < argc; ++i) {
        FILE* f = fopen(argv[i], "rb");
        if (!f) return 1;
        fseek(f, 0, SEEK_END);
        const long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        unsigned char* bytes = malloc((size_t)n);
        const size_t got = fread(bytes, 1, (size_t)n, f);
        fclose(f);
        lp_image_result r = {.struct_size = sizeof r};
        s = lp_analyze_image(engine, bytes, got, NULL, &r);
        free(bytes);
        if (s != LP_OK) {
            fprintf(stderr, "%s: %s: %s\n", argv[i], lp_error_message(s), lp_last_error());
            status = 1;
            continue;
        }
        printf("%s %d %.6f\n", argv[i], r.face_count, r.face_count ? r.faces[0].p_real : -1.0f);
    }
    lp_engine_destroy(engine);
    return status;
}
