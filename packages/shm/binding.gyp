{
  "targets": [
    {
      "target_name": "scopecache_shm",
      "sources": ["src/shm.cc"],
      "cflags_cc": ["-O2", "-Wall", "-Wno-cast-function-type"]
    }
  ]
}
