/*
 * own.c -- the player's own memory: anonymous mappings, touched at once, and the play
 *          file read into one of them.
 *
 * Design:      The footprint the player reports is its RSS high-water mark above a
 *              baseline taken just before the first op. For that to be the allocator's
 *              alone, everything the player owns must already be resident then and stay
 *              the same size: so it never uses malloc, and every page it maps is written
 *              here, not on first use during the replay. So are the pages of every object
 *              loaded (the player, libc, the allocator): code is not heap, and a first
 *              call into a page of libc during the replay would show as a jump of up to
 *              64 KiB (the kernel maps file pages around a fault). The file
 *              is read(2) rather than mapped: a file mapping's pages could be dropped and
 *              faulted in again, and a file truncated under a mapping raises SIGBUS.
 * Complexity:  O(bytes mapped).
 */
#include "play.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void *play_map(size_t n)
{
    if (n == 0)
        n = 1;
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* MAP_POPULATE may map the shared zero page for reads; a write makes each page ours */
    volatile unsigned char *bytes = p;
    for (size_t off = 0; off < n; off += PLAY_PAGE)
        bytes[off] = 0;
    return p;
}

void *play_read_file(const char *path, uint64_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    int e = fstat(fd, &st) != 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
    if (e) {
        close(fd);
        errno = e;
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = play_map(n);
    if (!buf) {
        close(fd);
        return NULL;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            e = r < 0 ? errno : EIO; /* shorter than fstat said: it changed under us */
            munmap(buf, n ? n : 1);
            close(fd);
            errno = e;
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

/* dl_iterate_phdr calls this for each loaded object: read a byte of each page it maps. */
static int touch_image(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R))
            continue;
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(PLAY_PAGE - 1);
        uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        for (uintptr_t at = start; at < end; at += PLAY_PAGE)
            (void)*(volatile const unsigned char *)at;
    }
    return 0; /* on to the next object */
}

void play_touch_image(void)
{
    dl_iterate_phdr(touch_image, NULL);
}
