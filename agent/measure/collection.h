// What a collector hands the engine: files to hash (through the cache) and values
// it measured itself, plus notes and the paths the change watcher should follow.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/measure/measurement.h"

namespace bulwark::agent {

struct FileTarget {
  std::string kind;
  std::string subject;
  std::string path;  // what to hash (may differ from subject: /proc/PID/exe)
  std::map<std::string, std::string> attributes;
  bool extend = true;
  bool watch = true;  // follow this path with inotify (not /proc files)
};

struct Collection {
  std::vector<FileTarget> files;
  std::vector<Measurement> direct;  // already hashed (e.g. /proc/cmdline content)
  std::vector<std::string> notes;
  std::vector<std::string> watch_dirs;  // directories whose entries matter (runtime state)

  void append(Collection other);
};

}  // namespace bulwark::agent
