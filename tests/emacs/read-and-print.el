;;; read-and-print.el --- what Emacs's own reader makes of source files  -*- lexical-binding: t -*-
;; Usage: emacs --batch -Q -l read-and-print.el LIST-FILE OUT-FILE
;; LIST-FILE names one source file per line.  OUT-FILE gets, per file, a
;; line "\035FILE NAME COUNT" (COUNT is -1 when `read' signalled an error
;; other than end of file), then each top-level form as printed by
;; `prin1', each followed by \036\036\036 and a newline.
(let* ((args command-line-args-left)
       (files (with-temp-buffer
                (insert-file-contents (nth 0 args))
                (split-string (buffer-string) "\n" t)))
       (out (get-buffer-create " out"))
       (print-escape-nonascii t)
       (print-gensym t)
       (print-length nil)
       (print-level nil)
       (print-circle nil))
  (setq command-line-args-left nil)
  (dolist (file files)
    (with-temp-buffer
      (insert-file-contents file)
      (goto-char (point-min))
      (let ((forms nil) (count 0))
        (condition-case nil
            (while t
              (push (read (current-buffer)) forms)
              (setq count (1+ count)))
          (end-of-file nil)
          (error (setq count -1)))
        (with-current-buffer out
          (insert (format "\035\035\035FILE %s %d\n" file count))
          (dolist (form (nreverse forms))
            (prin1 form out)
            (insert "\036\036\036\n"))))))
  (with-current-buffer out
    (let ((coding-system-for-write 'utf-8-emacs-unix))
      (write-region nil nil (nth 1 args)))))
