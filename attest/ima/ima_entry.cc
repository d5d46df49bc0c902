#include "attest/ima/ima_entry.h"

#include <algorithm>
#include <charconv>

namespace bulwark::attest::ima {

namespace {

constexpr std::size_t kLegacyNameSize = 256;  // IMA_EVENT_NAME_LEN_MAX + 1

std::string lineContext(std::size_t index, std::size_t offset) {
  return "entry " + std::to_string(index) + " at offset " + std::to_string(offset);
}

std::string_view nextToken(std::string_view& rest) {
  auto end = rest.find(' ');
  std::string_view tok = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return tok;
}

std::optional<HashAlg> algForHexLength(std::size_t n) {
  for (HashAlg a : kAllHashAlgs) {
    if (hashAlgSize(a) * 2 == n) return a;
  }
  return std::nullopt;
}

void appendField(Bytes& out, ByteView data) {
  std::uint32_t n = static_cast<std::uint32_t>(data.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), data.begin(), data.end());
}

struct LineParser {
  std::string_view rest;
  std::string ctx;
  ImaEntry e;

  std::unexpected<Error> bad(const std::string& what) { return fail(ErrorCode::kMalformed, what, ctx); }

  Result<void> header(const ImaParseOptions& opt);
  Result<void> digestField(std::string_view tok);
  Result<void> fields();
};

Result<void> LineParser::header(const ImaParseOptions& opt) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);  // "%2d" pads PCRs < 10
  std::string_view pcr = nextToken(rest);
  auto [p, ec] = std::from_chars(pcr.data(), pcr.data() + pcr.size(), e.pcr);
  if (ec != std::errc() || p != pcr.data() + pcr.size() || pcr.empty() || e.pcr > 23) {
    return bad("bad PCR field \"" + std::string(pcr.substr(0, 16)) + "\"");
  }
  std::string_view th = nextToken(rest);
  auto alg = opt.template_hash_alg ? opt.template_hash_alg : algForHexLength(th.size());
  if (!alg || th.size() != 2 * hashAlgSize(*alg)) return bad("template hash of " + std::to_string(th.size()) + " hex digits");
  auto hash = fromHex(th);
  if (!hash) return bad("template hash is not hex");
  e.template_hash_alg = *alg;
  e.template_hash = std::move(*hash);
  std::string_view name = nextToken(rest);
  if (name == "ima-ng") e.tmpl = Template::kImaNg;
  else if (name == "ima-sig") e.tmpl = Template::kImaSig;
  else if (name == "ima-buf") e.tmpl = Template::kImaBuf;
  else if (name == "ima") e.tmpl = Template::kIma;
  else return fail(ErrorCode::kUnsupported, "template \"" + std::string(name.substr(0, 32)) + "\"", ctx);
  return {};
}

Result<void> LineParser::digestField(std::string_view tok) {
  if (e.tmpl == Template::kIma) {
    e.digest_alg = "sha1";
  } else {
    auto colon = tok.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 64) return bad("d-ng field without \"alg:\"");
    e.digest_alg = std::string(tok.substr(0, colon));
    tok.remove_prefix(colon + 1);
  }
  auto d = fromHex(tok);
  if (!d || d->empty()) return bad("file digest is not hex");
  if (e.tmpl == Template::kIma && d->size() != 20) return bad("\"ima\" template digest is not SHA-1");
  if (auto known = hashAlgFromName(e.digest_alg); known && hashAlgSize(*known) != d->size()) {
    return bad(e.digest_alg + " digest of " + std::to_string(d->size()) + " bytes");
  }
  e.file_digest = std::move(*d);
  return {};
}

Result<void> LineParser::fields() {
  if (auto ok = digestField(nextToken(rest)); !ok) return ok;
  if (e.tmpl == Template::kIma || e.tmpl == Template::kImaNg) {
    e.path = std::string(rest);  // the rest of the line: paths may hold spaces
  } else {
    // Third field after the last space; empty when the kernel printed a trailing space.
    auto last = rest.rfind(' ');
    if (last == std::string_view::npos) return bad(std::string(templateName(e.tmpl)) + " line without third field");
    e.path = std::string(rest.substr(0, last));
    auto third = fromHex(rest.substr(last + 1));
    if (!third) return bad(e.tmpl == Template::kImaSig ? "signature is not hex" : "buffer is not hex");
    (e.tmpl == Template::kImaSig ? e.signature : e.buffer) = std::move(*third);
  }
  if (e.path.empty()) return bad("empty path");
  if (e.path.find('\0') != std::string::npos) return bad("NUL in path");
  if (e.tmpl == Template::kIma && e.path.size() >= kLegacyNameSize) return bad("\"ima\" template name over 255 bytes");
  return {};
}

}  // namespace

std::string_view templateName(Template t) {
  switch (t) {
    case Template::kIma: return "ima";
    case Template::kImaNg: return "ima-ng";
    case Template::kImaSig: return "ima-sig";
    case Template::kImaBuf: return "ima-buf";
  }
  return "unknown";
}

bool ImaEntry::isViolation() const {
  return std::all_of(template_hash.begin(), template_hash.end(), [](std::uint8_t b) { return b == 0; });
}

Bytes ImaEntry::templateData() const {
  Bytes out;
  if (tmpl == Template::kIma) {
    out = file_digest;
    std::size_t at = out.size();
    out.resize(at + kLegacyNameSize, 0);
    std::copy_n(path.begin(), std::min(path.size(), kLegacyNameSize - 1), out.begin() + static_cast<std::ptrdiff_t>(at));
    return out;
  }
  out.reserve(digest_alg.size() + file_digest.size() + path.size() + signature.size() + buffer.size() + 24);
  Bytes d(digest_alg.begin(), digest_alg.end());
  d.push_back(':');
  d.push_back(0);
  d.insert(d.end(), file_digest.begin(), file_digest.end());
  appendField(out, d);
  Bytes n(path.begin(), path.end());
  n.push_back(0);
  appendField(out, n);
  if (tmpl == Template::kImaSig) appendField(out, signature);
  if (tmpl == Template::kImaBuf) appendField(out, buffer);
  return out;
}

std::string ImaEntry::fileDigestString() const { return digest_alg + ":" + toHex(file_digest); }

Result<ImaEntry> parseImaLine(std::string_view line, std::size_t offset, std::size_t index,
                              const ImaParseOptions& options) {
  LineParser p{line, lineContext(index, offset), {}};
  if (line.size() > options.max_line) return p.bad("line of " + std::to_string(line.size()) + " bytes");
  p.e.index = index;
  p.e.offset = offset;
  if (auto ok = p.header(options); !ok) return std::unexpected(ok.error());
  if (auto ok = p.fields(); !ok) return std::unexpected(ok.error());
  if (!p.e.isViolation()) {
    p.e.template_hash_ok = digest(p.e.template_hash_alg, p.e.templateData()) == p.e.template_hash;
  }
  return std::move(p.e);
}

}  // namespace bulwark::attest::ima
