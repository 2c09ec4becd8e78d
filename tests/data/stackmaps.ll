declare void @llvm.experimental.stackmap(i64, i32, ...)
declare void @g()
define i64 @f(i64 %x, ptr %p) {
  %a = alloca i64
  store i64 %x, ptr %a
  call void @g()
  call void (i64, i32, ...) @llvm.experimental.stackmap(i64 42, i32 0, i64 %x, ptr %p, i64 7, i64 1099511627776, ptr %a)
  %y = add i64 %x, 1
  call void @g()
  call void (i64, i32, ...) @llvm.experimental.stackmap(i64 43, i32 4, i64 %y)
  ret i64 %y
}
define void @h() {
  call void (i64, i32, ...) @llvm.experimental.stackmap(i64 44, i32 0)
  ret void
}
