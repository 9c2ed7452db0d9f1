package envoyx

import "sync"

// handles maps the integers the host holds to Go values (the host never holds a Go pointer).
// Every hook of every stream looks its stream up, on each of Envoy's worker threads: lookups
// share a read lock, so workers do not queue behind each other.
type handles[T any] struct {
	mu     sync.RWMutex
	values map[uintptr]T
	next   uintptr
}

func (h *handles[T]) add(value T) uintptr {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.values == nil {
		h.values = map[uintptr]T{}
	}
	h.next++
	h.values[h.next] = value
	return h.next
}

// set stores `value` under an integer another table gave out (a configuration's id for its
// ConfigHandle).
func (h *handles[T]) set(handle uintptr, value T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.values == nil {
		h.values = map[uintptr]T{}
	}
	h.values[handle] = value
}

func (h *handles[T]) get(handle uintptr) (T, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	value, ok := h.values[handle]
	return value, ok
}

func (h *handles[T]) remove(handle uintptr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.values, handle)
}
