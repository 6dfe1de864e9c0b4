//! The executor of the blocking twins: runs a future to completion on the current thread.

use super::*;

/// Runs a future to completion on the current thread (the blocking twins).
pub(super) fn block_on<F: Future>(f: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// A runtime-agnostic pause of `d` (the asynchronous retry helper's backoff): the waker
/// is woken by one timer thread, `odbc-dm-timer`, started on the first pause. Nothing
/// else uses that thread; it holds its lock only to take the due wakers, never while
/// waking them.
pub(super) fn pause(d: Duration) -> impl Future<Output = ()> + Send + 'static {
    let deadline = Instant::now() + d;
    std::future::poll_fn(move |cx| {
        if Instant::now() >= deadline {
            return Poll::Ready(());
        }
        timer().add(deadline, cx.waker().clone());
        Poll::Pending
    })
}

struct Timer {
    due: Mutex<Vec<(Instant, Waker)>>,
    cv: std::sync::Condvar,
}

impl Timer {
    fn add(&self, at: Instant, w: Waker) {
        self.due.lock().unwrap_or_else(|e| e.into_inner()).push((at, w));
        self.cv.notify_one();
    }

    fn run(&self) {
        let mut g = self.due.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = Instant::now();
            let mut ready = Vec::new();
            g.retain(|(at, w)| {
                if *at <= now {
                    ready.push(w.clone());
                    false
                } else {
                    true
                }
            });
            if !ready.is_empty() {
                drop(g);
                ready.into_iter().for_each(Waker::wake);
                g = self.due.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            g = match g.iter().map(|(at, _)| *at).min() {
                Some(next) => self.cv.wait_timeout(g, next.saturating_duration_since(now)).unwrap_or_else(|e| e.into_inner()).0,
                None => self.cv.wait(g).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

fn timer() -> &'static Timer {
    static T: std::sync::OnceLock<&'static Timer> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer { due: Mutex::new(Vec::new()), cv: std::sync::Condvar::new() }));
        if let Err(e) = std::thread::Builder::new().name("odbc-dm-timer".into()).spawn(move || t.run()) {
            log::error!("odbc-dm: cannot start the timer thread ({e}); pauses end at their next poll");
        }
        t
    })
}
