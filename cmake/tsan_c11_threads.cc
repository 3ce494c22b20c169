// Linked into every executable of the Tsan build type only (see tidewater_tsan_executables in
// TidewaterOptions.cmake).
//
// Debian's librdkafka runs its threads, mutexes and condition variables through C11
// <threads.h> (thrd_create, mtx_lock, cnd_wait, ...). glibc implements those by calling its
// pthread internals directly, and the ThreadSanitizer runtime of clang 14 intercepts only the
// pthread_* entry points: a thread librdkafka starts is unknown to TSan, whose runtime then
// crashes (SEGV in its allocator, no thread state) on that thread's first malloc, and
// librdkafka's locks would be invisible to it. These definitions, exported from the
// executable, take precedence over glibc's for librdkafka and do the same through the
// pthread_* functions TSan intercepts. Only the functions librdkafka imports are defined.
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <threads.h>

#include <new>

namespace {

int ThreadsResult(int pthread_error) {
  switch (pthread_error) {
    case 0:
      return thrd_success;
    case ETIMEDOUT:
      return thrd_timedout;
    case EBUSY:
      return thrd_busy;
    case ENOMEM:
      return thrd_nomem;
    default:
      return thrd_error;
  }
}

struct ThreadStart {
  thrd_start_t function;
  void* argument;
};

void* RunThread(void* start) {
  const ThreadStart copy = *static_cast<ThreadStart*>(start);
  delete static_cast<ThreadStart*>(start);
  return reinterpret_cast<void*>(static_cast<intptr_t>(copy.function(copy.argument)));
}

pthread_mutex_t* Native(mtx_t* mutex) { return reinterpret_cast<pthread_mutex_t*>(mutex); }
pthread_cond_t* Native(cnd_t* cond) { return reinterpret_cast<pthread_cond_t*>(cond); }

static_assert(sizeof(mtx_t) >= sizeof(pthread_mutex_t) && sizeof(cnd_t) >= sizeof(pthread_cond_t));

}  // namespace

extern "C" {

int thrd_create(thrd_t* thread, thrd_start_t function, void* argument) {
  auto* start = new (std::nothrow) ThreadStart{function, argument};
  if (start == nullptr) return thrd_nomem;
  const int error = pthread_create(thread, nullptr, RunThread, start);
  if (error != 0) delete start;
  return ThreadsResult(error);
}

int thrd_join(thrd_t thread, int* result) {
  void* returned = nullptr;
  const int error = pthread_join(thread, &returned);
  if (error == 0 && result != nullptr) {
    *result = static_cast<int>(reinterpret_cast<intptr_t>(returned));
  }
  return ThreadsResult(error);
}

int mtx_init(mtx_t* mutex, int type) {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  if ((type & mtx_recursive) != 0) {
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_RECURSIVE);
  }
  const int error = pthread_mutex_init(Native(mutex), &attributes);
  pthread_mutexattr_destroy(&attributes);
  return ThreadsResult(error);
}

int mtx_lock(mtx_t* mutex) { return ThreadsResult(pthread_mutex_lock(Native(mutex))); }
int mtx_unlock(mtx_t* mutex) { return ThreadsResult(pthread_mutex_unlock(Native(mutex))); }
void mtx_destroy(mtx_t* mutex) { pthread_mutex_destroy(Native(mutex)); }

int cnd_init(cnd_t* cond) { return ThreadsResult(pthread_cond_init(Native(cond), nullptr)); }
int cnd_signal(cnd_t* cond) { return ThreadsResult(pthread_cond_signal(Native(cond))); }
int cnd_broadcast(cnd_t* cond) { return ThreadsResult(pthread_cond_broadcast(Native(cond))); }
int cnd_wait(cnd_t* cond, mtx_t* mutex) {
  return ThreadsResult(pthread_cond_wait(Native(cond), Native(mutex)));
}
// C11's deadline is TIME_UTC, the realtime clock a default pthread condition uses.
int cnd_timedwait(cnd_t* cond, mtx_t* mutex, const struct timespec* deadline) {
  return ThreadsResult(pthread_cond_timedwait(Native(cond), Native(mutex), deadline));
}
void cnd_destroy(cnd_t* cond) { pthread_cond_destroy(Native(cond)); }

}  // extern "C"
