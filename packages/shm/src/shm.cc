// @scopecache/shm: a SharedArrayBuffer over a MAP_SHARED mapping of a /dev/shm file, a futex on one
// of its words, and the facts a survivor needs to prove another process dead. The V8 API, not
// N-API: N-API cannot make a SharedArrayBuffer. Context-aware, so worker threads may load it too.
#include <node.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace {

using v8::Context;
using v8::Exception;
using v8::FunctionCallbackInfo;
using v8::Int32Array;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

const char kDir[] = "/dev/shm/";

void Throw(Isolate* iso, const char* what, const std::string& path, int err) {
  std::string msg = std::string("@scopecache/shm: ") + what + " " + path + ": " + strerror(err);
  Local<Value> e = Exception::Error(String::NewFromUtf8(iso, msg.c_str()).ToLocalChecked());
  Local<Context> ctx = iso->GetCurrentContext();
  // errno's name in `code` (EEXIST, ENOENT, ...), as Node's own fs errors do.
  const char* code = err == EEXIST ? "EEXIST" : err == ENOENT ? "ENOENT" : err == EACCES ? "EACCES" : err == ELOOP ? "ELOOP"
                   : err == EINVAL ? "EINVAL" : err == ENOSPC ? "ENOSPC" : err == ENOMEM ? "ENOMEM" : "EIO";
  e.As<Object>()->Set(ctx, String::NewFromUtf8Literal(iso, "code"), String::NewFromUtf8(iso, code).ToLocalChecked()).Check();
  e.As<Object>()->Set(ctx, String::NewFromUtf8Literal(iso, "errno"), Integer::New(iso, err)).Check();
  iso->ThrowException(e);
}

bool PathArg(const FunctionCallbackInfo<Value>& args, std::string* out) {
  Isolate* iso = args.GetIsolate();
  if (args.Length() < 1 || !args[0]->IsString()) {
    iso->ThrowException(Exception::TypeError(String::NewFromUtf8Literal(iso, "@scopecache/shm: the name must be a string")));
    return false;
  }
  String::Utf8Value name(iso, args[0]);
  std::string n(*name, name.length());
  // The JS side checks names too; a path separator or NUL here would leave /dev/shm.
  if (n.empty() || n.find('/') != std::string::npos || n.find('\0') != std::string::npos || n == "." || n == "..") {
    iso->ThrowException(Exception::TypeError(String::NewFromUtf8Literal(iso, "@scopecache/shm: invalid name")));
    return false;
  }
  *out = std::string(kDir) + n;
  return true;
}

// The mapping lives as long as the SharedArrayBuffer: V8 calls this when the last one is collected.
void Unmap(void* data, size_t length, void*) { munmap(data, length); }

Local<SharedArrayBuffer> Wrap(Isolate* iso, void* p, size_t size) {
  auto store = SharedArrayBuffer::NewBackingStore(p, size, Unmap, nullptr);
  return SharedArrayBuffer::New(iso, std::move(store));
}

// create(name, bytes) -> SharedArrayBuffer. O_EXCL: exactly one of several racing creators wins;
// the others get EEXIST and attach. The file is mode 0600 and zero-filled by ftruncate.
void Create(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  std::string path;
  if (!PathArg(args, &path)) return;
  double d = args[1]->IsNumber() ? args[1].As<Number>()->Value() : -1;
  if (!(d >= 8 && d <= 4294967296.0)) {
    iso->ThrowException(Exception::RangeError(String::NewFromUtf8Literal(iso, "@scopecache/shm: invalid size")));
    return;
  }
  size_t size = static_cast<size_t>(d);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Throw(iso, "cannot create", path, errno);
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    unlink(path.c_str());
    return Throw(iso, "cannot size", path, err);
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (p == MAP_FAILED) {
    unlink(path.c_str());
    return Throw(iso, "cannot map", path, err);
  }
  args.GetReturnValue().Set(Wrap(iso, p, size));
}

// open(name) -> { buffer: SharedArrayBuffer | undefined, size, uid, mode }. Maps the file as it is
// now (no buffer while it is still empty: its creator has not sized it yet). Changes nothing.
void Open(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  Local<Context> ctx = iso->GetCurrentContext();
  std::string path;
  if (!PathArg(args, &path)) return;
  int fd = open(path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Throw(iso, "cannot open", path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return Throw(iso, "cannot stat", path, err);
  }
  Local<Object> out = Object::New(iso);
  out->Set(ctx, String::NewFromUtf8Literal(iso, "size"), Number::New(iso, static_cast<double>(st.st_size))).Check();
  out->Set(ctx, String::NewFromUtf8Literal(iso, "uid"), Number::New(iso, st.st_uid)).Check();
  out->Set(ctx, String::NewFromUtf8Literal(iso, "mode"), Number::New(iso, st.st_mode)).Check();
  out->Set(ctx, String::NewFromUtf8Literal(iso, "regular"), v8::Boolean::New(iso, S_ISREG(st.st_mode))).Check();
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    size_t size = static_cast<size_t>(st.st_size);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd);
    if (p == MAP_FAILED) return Throw(iso, "cannot map", path, err);
    out->Set(ctx, String::NewFromUtf8Literal(iso, "buffer"), Wrap(iso, p, size)).Check();
  } else {
    close(fd);
  }
  args.GetReturnValue().Set(out);
}

// unlink(name) -> true if removed, false if there was none. Existing mappings stay valid.
void Unlink(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  std::string path;
  if (!PathArg(args, &path)) return;
  if (unlink(path.c_str()) == 0) return args.GetReturnValue().Set(true);
  if (errno == ENOENT) return args.GetReturnValue().Set(false);
  Throw(iso, "cannot unlink", path, errno);
}

int* WordOf(const FunctionCallbackInfo<Value>& args) {
  Isolate* iso = args.GetIsolate();
  if (!args[0]->IsInt32Array() || !args[1]->IsUint32()) {
    iso->ThrowException(Exception::TypeError(String::NewFromUtf8Literal(iso, "@scopecache/shm: futex needs (Int32Array, index)")));
    return nullptr;
  }
  Local<Int32Array> a = args[0].As<Int32Array>();
  uint32_t i = args[1].As<v8::Uint32>()->Value();
  if (i >= a->Length()) {
    iso->ThrowException(Exception::RangeError(String::NewFromUtf8Literal(iso, "@scopecache/shm: futex index out of range")));
    return nullptr;
  }
  auto store = a->Buffer()->GetBackingStore();
  return reinterpret_cast<int*>(static_cast<char*>(store->Data()) + a->ByteOffset()) + i;
}

// futexWait(i32, index, expected, ms) -> 0 woken (or spurious), 1 not-equal, 2 timed out.
// No FUTEX_PRIVATE_FLAG: the word is in a shared file mapping, its waiters may be other processes.
// Blocks the calling thread, as Atomics.wait does.
void FutexWait(const FunctionCallbackInfo<Value>& args) {
  int* word = WordOf(args);
  if (word == nullptr) return;
  int expected = args[2]->IsInt32() ? args[2].As<v8::Int32>()->Value() : 0;
  double ms = args[3]->IsNumber() ? args[3].As<Number>()->Value() : 0;
  if (!(ms >= 0)) ms = 0;
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ms / 1000);
  ts.tv_nsec = static_cast<long>((ms - static_cast<double>(ts.tv_sec) * 1000) * 1e6);
  long r = syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, nullptr, 0);
  int out = 0;
  if (r != 0) out = errno == EAGAIN ? 1 : errno == ETIMEDOUT ? 2 : 0;
  args.GetReturnValue().Set(out);
}

// futexWake(i32, index, count) -> waiters woken.
void FutexWake(const FunctionCallbackInfo<Value>& args) {
  int* word = WordOf(args);
  if (word == nullptr) return;
  int count = args[2]->IsInt32() ? args[2].As<v8::Int32>()->Value() : 1;
  long r = syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
  args.GetReturnValue().Set(static_cast<int>(r < 0 ? 0 : r));
}

// startTime(pid) -> the process's start time in clock ticks since boot (/proc/PID/stat field 22),
// or -1 when there is no such process. With the pid it names one process for good: a pid reused
// after its process died has a later start time.
void StartTime(const FunctionCallbackInfo<Value>& args) {
  int pid = args[0]->IsInt32() ? args[0].As<v8::Int32>()->Value() : 0;
  if (pid <= 0) return args.GetReturnValue().Set(-1);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return args.GetReturnValue().Set(-1);
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return args.GetReturnValue().Set(-1);
  buf[n] = 0;
  // Field 2 is the command name in parentheses and may hold spaces or ')': parse after the last ')'.
  char* p = strrchr(buf, ')');
  if (p == nullptr) return args.GetReturnValue().Set(-1);
  p++;
  // Fields 3..22: 20 fields after ')', the last of them the start time.
  for (int field = 3; field < 22 && p != nullptr; field++) {
    while (*p == ' ') p++;
    p = strchr(p, ' ');
  }
  if (p == nullptr) return args.GetReturnValue().Set(-1);
  double v = strtod(p, nullptr);
  args.GetReturnValue().Set(Number::New(args.GetIsolate(), v));
}

// alive(pid) -> whether a process with this pid exists (kill(pid, 0); EPERM: it exists, not ours).
void Alive(const FunctionCallbackInfo<Value>& args) {
  int pid = args[0]->IsInt32() ? args[0].As<v8::Int32>()->Value() : 0;
  if (pid <= 0) return args.GetReturnValue().Set(false);
  args.GetReturnValue().Set(kill(pid, 0) == 0 || errno == EPERM);
}

void Pid(const FunctionCallbackInfo<Value>& args) { args.GetReturnValue().Set(static_cast<int>(getpid())); }

void Uid(const FunctionCallbackInfo<Value>& args) { args.GetReturnValue().Set(static_cast<double>(geteuid())); }

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  NODE_SET_METHOD(exports, "create", Create);
  NODE_SET_METHOD(exports, "open", Open);
  NODE_SET_METHOD(exports, "unlink", Unlink);
  NODE_SET_METHOD(exports, "futexWait", FutexWait);
  NODE_SET_METHOD(exports, "futexWake", FutexWake);
  NODE_SET_METHOD(exports, "startTime", StartTime);
  NODE_SET_METHOD(exports, "alive", Alive);
  NODE_SET_METHOD(exports, "pid", Pid);
  NODE_SET_METHOD(exports, "uid", Uid);
}
