#include "attest/eventlog/boot_facts.h"

#include <algorithm>

#include "attest/eventlog/event_data.h"
#include "attest/eventlog/reader.h"

namespace bulwark::attest::eventlog {

namespace {

struct GrubState {
  std::string linux_path;                // from the last bound "linux" command
  std::vector<std::string> initrd_paths;  // from the last bound "initrd" command
};

struct Extractor {
  BootFacts facts;
  GrubState grub;
  bool pcr7_separator = false;

  Result<void> onEvent(const Event& ev);
  Result<void> onVariable(const Event& ev);
  void onImage(const Event& ev);
  void onIpl(const Event& ev);
  void onGrubString(const Event& ev, std::string_view text);
  void onGrubFile(const Event& ev, std::string_view text);
  void onUtf16Cmdline(const Event& ev, ByteView utf16, std::string_view source);
  void onSeparator(const Event& ev);
  void note(const Event& ev, const std::string& what) {
    facts.inconsistencies.push_back("event " + std::to_string(ev.index) + ": " + what);
  }
};

std::map<HashAlg, Bytes> knownDigests(const Event& ev) {
  std::map<HashAlg, Bytes> out;
  for (const auto& d : ev.digests) {
    if (auto alg = hashAlgFromId(d.alg_id)) out[*alg] = d.digest;
  }
  return out;
}

std::string_view trimNul(std::string_view s) {
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  return s;
}

// Removes a grub device prefix "(hd0,gpt2)" so PCR 9 paths compare with commands.
std::string_view stripDevice(std::string_view path) {
  if (!path.empty() && path.front() == '(') {
    auto close = path.find(')');
    if (close != std::string_view::npos) return path.substr(close + 1);
  }
  return path;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto start = s.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    auto end = s.find(' ');
    out.push_back(s.substr(0, end));
    if (end == std::string_view::npos) break;
    s.remove_prefix(end);
  }
  return out;
}

// grub hashes the text either bare (upstream grub_tpm_verify_string) or with its NUL
// (rhboot "grub_cmd "): both bind exactly `text`.
bool grubBound(const Event& ev, std::string_view text) {
  if (digestsMatch(ev, asBytes(text))) return true;
  std::string with_nul(text);
  with_nul.push_back('\0');
  return digestsMatch(ev, asBytes(with_nul));
}

}  // namespace

bool digestsMatch(const Event& ev, ByteView data) {
  bool any = false;
  for (const auto& d : ev.digests) {
    auto alg = hashAlgFromId(d.alg_id);
    if (!alg) continue;
    if (digest(*alg, data) != d.digest) return false;
    any = true;
  }
  return any;
}

const SecureBootVariable* BootFacts::variable(std::string_view name) const {
  const SecureBootVariable* found = nullptr;
  for (const auto& v : secure_boot_variables) {
    if (v.name == name) found = &v;  // the last measurement is what the firmware used
  }
  return found;
}

bool BootFacts::allSeparatorsPresent() const {
  return std::all_of(separators.begin(), separators.end(), [](bool b) { return b; });
}

Result<void> Extractor::onVariable(const Event& ev) {
  BW_TRY(var, decodeUefiVariable(ev.data, ev.data_offset));
  bool global = var->vendor == kEfiGlobalVariableGuid;
  bool imagedb = var->vendor == kImageSecurityDatabaseGuid;
  // PFP §10.4.4 / §3.3.4.8: PCR 7 records hash the whole UEFI_VARIABLE_DATA.
  bool bound = digestsMatch(ev, ev.data);
  if (global && var->name == "SecureBoot") {
    auto ctx = offsetContext(ev.offset);
    if (!bound) return fail(ErrorCode::kMalformed, "SecureBoot variable data does not match its digest", ctx);
    if (pcr7_separator) return fail(ErrorCode::kMalformed, "SecureBoot variable measured after the PCR 7 separator", ctx);
    bool on = !var->data.empty() && var->data[0] == 1;
    if (facts.secure_boot && *facts.secure_boot != on) {
      return fail(ErrorCode::kMalformed, "SecureBoot variable measured twice with different values", ctx);
    }
    facts.secure_boot = on;
    return {};
  }
  bool policy_var = (global && (var->name == "PK" || var->name == "KEK")) ||
                    (imagedb && (var->name == "db" || var->name == "dbx"));
  if (!policy_var) return {};
  if (!bound) {
    note(ev, var->name + " variable data does not match its digest; not reported");
    return {};
  }
  facts.secure_boot_variables.push_back(
      {var->name, var->vendor, var->data.size(), sha256(var->data), ev.index});
  return {};
}

void Extractor::onImage(const Event& ev) {
  LoadedImage img{ev.type, ev.pcr, ev.index, knownDigests(ev), {}};
  if (auto decoded = decodeImageLoad(ev.data, ev.data_offset)) img.path = decoded->device_path_text;
  auto& list = ev.type == ev::kEfiBootServicesApplication ? facts.boot_applications : facts.drivers;
  list.push_back(std::move(img));
}

void Extractor::onUtf16Cmdline(const Event& ev, ByteView utf16, std::string_view source) {
  std::string text = utf16leToUtf8(utf16);
  // systemd hashes the UTF-16 string including its terminating NUL (strsize16()).
  std::size_t units = 0;
  while (2 * units + 1 < utf16.size() && (utf16[2 * units] | utf16[2 * units + 1]) != 0) ++units;
  Bytes measured(utf16.begin(), utf16.begin() + static_cast<std::ptrdiff_t>(2 * units));
  measured.push_back(0);
  measured.push_back(0);
  bool bound = digestsMatch(ev, measured);
  if (ev.pcr == 12 && !bound) return;  // PCR 12 also holds credentials/sysext labels
  facts.kernel_cmdlines.push_back({text, std::string(source), ev.pcr, ev.index, bound});
}

void Extractor::onGrubString(const Event& ev, std::string_view text) {
  struct Prefix {
    std::string_view prefix;
    bool cmdline;
    const char* source;
  };
  static constexpr Prefix kPrefixes[] = {{"kernel_cmdline: ", true, "grub"},
                                         {"grub_kernel_cmdline ", true, "grub-rhel"},
                                         {"grub_cmd: ", false, "grub"},
                                         {"grub_cmd ", false, "grub-rhel"}};
  for (const auto& p : kPrefixes) {
    if (!text.starts_with(p.prefix)) continue;
    std::string_view body = text.substr(p.prefix.size());
    bool bound = grubBound(ev, body);
    if (p.cmdline) {
      facts.kernel_cmdlines.push_back({std::string(body), p.source, ev.pcr, ev.index, bound});
      if (!bound) note(ev, "kernel command line does not match its digest");
      return;
    }
    if (!bound) return note(ev, "grub command does not match its digest");
    auto argv = words(body);
    if (argv.empty()) return;
    if ((argv[0] == "linux" || argv[0] == "linuxefi") && argv.size() > 1) {
      grub.linux_path = std::string(stripDevice(argv[1]));
    } else if (argv[0] == "initrd" || argv[0] == "initrdefi") {
      grub.initrd_paths.clear();
      for (std::size_t i = 1; i < argv.size(); ++i) grub.initrd_paths.emplace_back(stripDevice(argv[i]));
    }
    return;
  }
}

void Extractor::onGrubFile(const Event& ev, std::string_view text) {
  // rhboot grub labels the files "grub_linuxefi Kernel" / "grub_linuxefi Initrd".
  if (text == "grub_linuxefi Kernel") {
    facts.kernels.push_back({grub.linux_path, "grub-rhel", ev.index, knownDigests(ev)});
    return;
  }
  if (text == "grub_linuxefi Initrd") {
    std::string paths;
    for (const auto& p : grub.initrd_paths) paths += (paths.empty() ? "" : " ") + p;
    facts.initrds.push_back({paths, "grub-rhel", ev.index, knownDigests(ev)});
    return;
  }
  std::string path(stripDevice(text));
  if (!grub.linux_path.empty() && path == grub.linux_path) {
    facts.kernels.push_back({path, "grub", ev.index, knownDigests(ev)});
  } else if (std::find(grub.initrd_paths.begin(), grub.initrd_paths.end(), path) != grub.initrd_paths.end()) {
    facts.initrds.push_back({path, "grub", ev.index, knownDigests(ev)});
  }
}

void Extractor::onIpl(const Event& ev) {
  TextData t = decodeText(ev.data);
  if (t.utf16 && (ev.pcr == 8 || ev.pcr == 12)) {
    return onUtf16Cmdline(ev, ev.data, ev.pcr == 8 ? "systemd-boot" : "systemd-stub");
  }
  if (t.utf16) return;
  std::string_view text = trimNul(std::string_view(reinterpret_cast<const char*>(ev.data.data()), ev.data.size()));
  if (ev.pcr == 8) onGrubString(ev, text);
  if (ev.pcr == 9) onGrubFile(ev, text);
}

void Extractor::onSeparator(const Event& ev) {
  if (ev.pcr == 7) pcr7_separator = true;
  if (ev.pcr >= 8) return;
  facts.separators[ev.pcr] = true;
  if (ev.data.size() != 4 || !digestsMatch(ev, ev.data)) {
    note(ev, "separator data does not match its digest");
  }
  bool error = ev.data.size() == 4 && (ev.data[0] | ev.data[1] | ev.data[2] | ev.data[3]) != 0;
  if (error) facts.error_separators.push_back(ev.pcr);
}

Result<void> Extractor::onEvent(const Event& ev) {
  switch (ev.type) {
    case ev::kEfiVariableDriverConfig:
      if (ev.pcr == 7) return onVariable(ev);
      return {};
    case ev::kEfiBootServicesApplication:
    case ev::kEfiBootServicesDriver:
    case ev::kEfiRuntimeServicesDriver: onImage(ev); return {};
    case ev::kIpl: onIpl(ev); return {};
    case ev::kSeparator: onSeparator(ev); return {};
    case ev::kEventTag: {
      auto tag = decodeTagged(ev.data, ev.data_offset);
      if (!tag) return {};
      if (ev.pcr == 9 && tag->id == kInitrdEventTag) {
        facts.initrds.push_back({"Linux initrd", "efi-stub", ev.index, knownDigests(ev)});
      } else if (ev.pcr == 12 && tag->id == kLoadOptionsEventTag) {
        onUtf16Cmdline(ev, tag->data, "systemd-stub");
      }
      return {};
    }
    default: return {};
  }
}

Result<BootFacts> bootFacts(const EventLog& log) {
  Extractor x;
  for (const auto& ev : log.events) {
    if (auto ok = x.onEvent(ev); !ok) {
      Error e = ok.error();
      e.within("event " + std::to_string(ev.index));
      return std::unexpected(e);
    }
  }
  return std::move(x.facts);
}

}  // namespace bulwark::attest::eventlog
