// `liveproof keygen`: create, rotate and prune the Ed25519 keys that sign session verdicts.
#include <iostream>

#include "commands.hpp"
#include "common/json_text.hpp"
#include "verdict/key_ring.hpp"

namespace liveproof::cli {

namespace {
struct KeygenFlags {
    std::string file;
    bool rotate = false;
    std::string remove;
    bool jwks = false;
};

[[noreturn]] void Fail(const std::string& why) {
    std::cerr << "keygen: " << why << "\n";
    throw CLI::RuntimeError(1);
}
}  // namespace

void RegisterKeygen(CLI::App& root) {
    auto flags = std::make_shared<KeygenFlags>();
    CLI::App* cmd = root.add_subcommand(
        "keygen",
        "Create the verdict signing key file (mode 0600), or rotate / remove its keys; prints "
        "the kids (never a private key)");
    cmd->add_option("file", flags->file, "Key file (the signing_key_file setting)")->required();
    cmd->add_flag("--rotate", flags->rotate,
                  "Add a new active key; older keys stay to verify earlier verdicts");
    cmd->add_option("--remove", flags->remove, "Remove this non-active kid");
    cmd->add_flag("--jwks", flags->jwks, "Print the public JWK Set after the change");
    cmd->callback([flags] {
        bool created = false;
        auto ring = verdict::KeyRing::LoadOrCreate(flags->file, &created);
        if (!ring) Fail(ring.error().detail);
        bool changed = false;
        if (!created && flags->rotate) {
            std::cerr << "keygen: new active key " << ring->Rotate() << "\n";
            changed = true;
        }
        if (!flags->remove.empty()) {
            if (!ring->Remove(flags->remove))
                Fail("no removable key " + flags->remove + " (unknown, or the active one)");
            std::cerr << "keygen: removed " << flags->remove << "\n";
            changed = true;
        }
        if (changed) {
            if (auto saved = ring->Save(flags->file); !saved) Fail(saved.error().detail);
        }
        if (created) std::cerr << "keygen: created " << flags->file << "\n";
        for (const auto& k : ring->keys())
            std::cerr << "  " << k.kid << (k.active ? "  active" : "  verify only") << "\n";
        if (flags->jwks) std::cout << ToJsonText(ring->Jwks(), 2) << "\n";
    });
}

}  // namespace liveproof::cli
