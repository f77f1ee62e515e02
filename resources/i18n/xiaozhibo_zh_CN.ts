<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Card</name>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="147"/>
        <source>LIVE</source>
        <translation>直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="147"/>
        <source>Replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="147"/>
        <source>Short</source>
        <translation>短视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="161"/>
        <source>(untitled)</source>
        <translation>（无标题）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="178"/>
        <location filename="../../app/ui/widgets/cards.py" line="213"/>
        <source>{0}, {1}</source>
        <translation>{0}，{1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="182"/>
        <source>Unknown location</source>
        <translation>未知地点</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="191"/>
        <source>Recorded {0}</source>
        <translation>录制于 {0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="192"/>
        <source>Published {0}</source>
        <translation>发布于 {0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cards.py" line="196"/>
        <source>Double-click to watch</source>
        <translation>双击观看</translation>
    </message>
</context>
<context>
    <name>ChatPanel</name>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="95"/>
        <source>Say something to your viewers</source>
        <translation>和观众说点什么</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="97"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="124"/>
        <source>Online now: {0} · Viewers: {1} · Likes: {2}</source>
        <translation>当前在线：{0} · 累计观众：{1} · 点赞：{2}</translation>
    </message>
</context>
<context>
    <name>DanmakuControls</name>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="263"/>
        <source>Danmaku</source>
        <translation>弹幕</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="282"/>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="282"/>
        <source>Size</source>
        <translation>字号</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="283"/>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
</context>
<context>
    <name>Devices</name>
    <message>
        <location filename="../../app/ui/controllers/devices.py" line="44"/>
        <source>The saved video source {0} is not available; using {1} instead.</source>
        <translation>保存的视频源 {0} 不可用，改用 {1}。</translation>
    </message>
    <message>
        <location filename="../../app/ui/controllers/devices.py" line="84"/>
        <source>The saved microphone {0} is not connected; using the default microphone.</source>
        <translation>保存的麦克风 {0} 未连接，改用默认麦克风。</translation>
    </message>
    <message>
        <location filename="../../app/ui/controllers/devices.py" line="97"/>
        <source>The saved speaker {0} is not connected; using the default output.</source>
        <translation>保存的扬声器 {0} 未连接，改用默认输出。</translation>
    </message>
</context>
<context>
    <name>EndLiveConfirm</name>
    <message>
        <location filename="../../app/ui/widgets/golive_confirm.py" line="15"/>
        <source>You are live. Close this window and end the live show?</source>
        <translation>正在直播。关闭此窗口并结束直播吗？</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_confirm.py" line="16"/>
        <source>End the live show now? Your viewers will see it has ended.</source>
        <translation>现在结束直播吗？观众将看到直播已结束。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_confirm.py" line="17"/>
        <source>End live?</source>
        <translation>结束直播？</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_confirm.py" line="19"/>
        <source>End live</source>
        <translation>结束直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_confirm.py" line="20"/>
        <source>Keep live</source>
        <translation>继续直播</translation>
    </message>
</context>
<context>
    <name>Errors</name>
    <message>
        <location filename="../../app/ui/errors.py" line="61"/>
        <source>The server does not support this request (is the server address right?).</source>
        <translation>服务器不支持此请求（服务器地址是否正确？）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="62"/>
        <source>Your session has expired. Please log in again.</source>
        <translation>登录已过期，请重新登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="63"/>
        <source>The server had an internal error. Try again later.</source>
        <translation>服务器内部错误，请稍后重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="64"/>
        <source>The server could not save the change.</source>
        <translation>服务器未能保存修改。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="65"/>
        <source>The server refused a value as invalid.</source>
        <translation>服务器认为提交的内容无效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="66"/>
        <source>User ID must be 4-24 letters, digits or _ and start with a letter.</source>
        <translation>用户名须为 4-24 位字母、数字或下划线，并以字母开头。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="67"/>
        <source>The password could not be sent in the expected format.</source>
        <translation>密码未能以要求的格式发送。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="68"/>
        <source>This user ID is already registered.</source>
        <translation>该用户名已被注册。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="69"/>
        <source>No such user. Register first.</source>
        <translation>用户不存在，请先注册。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="70"/>
        <source>Wrong password.</source>
        <translation>密码错误。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="71"/>
        <source>Too many attempts from this computer. Wait a minute and try again.</source>
        <translation>本机尝试次数过多，请一分钟后再试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="72"/>
        <source>The file is too large for the server.</source>
        <translation>文件太大，服务器无法接收。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="73"/>
        <source>Unsupported file type: use a JPEG, PNG or WebP image.</source>
        <translation>不支持的文件类型：请使用 JPEG、PNG 或 WebP 图片。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="78"/>
        <source>If it keeps happening, open Log in the toolbar for the details.</source>
        <translation>如果问题持续出现，请打开工具栏中的“日志”查看详情。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="82"/>
        <source>Cannot reach the server. Check the server address in Settings and that the server is running.</source>
        <translation>无法连接服务器。请在设置中检查服务器地址，并确认服务器正在运行。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="90"/>
        <source>You are muted in this room until {time}.</source>
        <translation>你在此直播间被禁言至 {time}。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="92"/>
        <source>You are muted in this room for now.</source>
        <translation>你在此直播间暂时被禁言。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="96"/>
        <source>Slow mode is on: wait {n} s before sending again.</source>
        <translation>慢速模式已开启：请等待 {n} 秒后再发送。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="98"/>
        <source>You were removed from this room and cannot chat here.</source>
        <translation>你已被移出此直播间，无法在这里聊天。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="100"/>
        <source>That message is gone (too old or already removed).</source>
        <translation>该消息已不存在（太久以前或已被删除）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="109"/>
        <source>The chat service did not answer in time. Try again.</source>
        <translation>聊天服务没有及时响应，请重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="110"/>
        <source>Not connected to the chat service; reconnecting. Try again in a moment.</source>
        <translation>未连接到聊天服务，正在重连。请稍后再试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="111"/>
        <source>You are sending too fast. Wait a moment and try again.</source>
        <translation>发送太快了，请稍等片刻再试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="112"/>
        <source>The message is too long. Shorten it and send again.</source>
        <translation>消息太长，请删减后重新发送。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="113"/>
        <source>You are not allowed to do this in this room.</source>
        <translation>你在此直播间没有这个权限。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="114"/>
        <source>This room has closed.</source>
        <translation>此直播间已关闭。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="115"/>
        <location filename="../../app/ui/errors.py" line="116"/>
        <source>Your chat sign-in has expired. Log in again.</source>
        <translation>聊天登录已过期，请重新登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="124"/>
        <source>No camera was found. Connect a camera or choose another video source.</source>
        <translation>没有找到摄像头。请连接摄像头，或选择其他视频源。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="125"/>
        <source>The camera could not be opened. Close other programs that use it, or choose another source.</source>
        <translation>无法打开摄像头。请关闭正在使用它的其他程序，或选择其他视频源。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="126"/>
        <source>The camera sends no picture. Reconnect it or choose another source.</source>
        <translation>摄像头没有画面。请重新连接摄像头，或选择其他视频源。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="127"/>
        <source>No microphone was found. Connect one, or go on without sound.</source>
        <translation>没有找到麦克风。请连接麦克风，或在无声状态下继续。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="128"/>
        <source>The screen cannot be captured here. Choose another video source.</source>
        <translation>此环境无法采集屏幕。请选择其他视频源。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="129"/>
        <source>That screen is not connected. Choose another screen.</source>
        <translation>该屏幕未连接。请选择其他屏幕。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="130"/>
        <source>The chosen screen area is outside the screen. Choose the area again.</source>
        <translation>所选区域超出了屏幕范围。请重新选择区域。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="131"/>
        <source>This source cannot be opened. Check the file or choose another source.</source>
        <translation>无法打开此视频源。请检查文件，或选择其他视频源。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="133"/>
        <source>The source cannot be opened. Choose another source.</source>
        <translation>无法打开视频源。请选择其他视频源。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="145"/>
        <source>The server refused the request (error {code}). Try again later.</source>
        <translation>服务器拒绝了请求（错误码 {code}）。请稍后重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="118"/>
        <source>The chat service refused the request (error {code}). Try again later.</source>
        <translation>聊天服务拒绝了请求（错误码 {code}）。请稍后重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="158"/>
        <source>A file could not be read or written. Check that the disk has space and the file is not in use.</source>
        <translation>无法读写文件。请确认磁盘空间充足且文件未被占用。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="159"/>
        <source>Something went wrong.</source>
        <translation>出现了问题。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="165"/>
        <source>The video could not be opened. Check your network and try again.</source>
        <translation>无法打开视频。请检查网络后重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="166"/>
        <source>This video or live stream is no longer available. Refresh the list.</source>
        <translation>该视频或直播已不存在。请刷新列表。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="167"/>
        <source>The stream has no picture or sound yet. Try again in a moment.</source>
        <translation>直播流暂时没有画面和声音。请稍后再试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="168"/>
        <source>The connection to the stream was lost. Check your network and try again.</source>
        <translation>与直播流的连接已断开。请检查网络后重试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="169"/>
        <source>The video could not be decoded. Try another video.</source>
        <translation>视频无法解码。请换一个视频试试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="170"/>
        <source>This video cannot jump to another position.</source>
        <translation>此视频不支持跳转进度。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="171"/>
        <source>The speaker could not be opened; playing without sound. Check the speaker in Settings.</source>
        <translation>无法打开扬声器，正在无声播放。请在设置中检查扬声器。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="172"/>
        <source>The play address is not valid.</source>
        <translation>播放地址无效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="177"/>
        <source>Playback failed.</source>
        <translation>播放失败。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="182"/>
        <source>The microphone could not be opened, so your stream has no sound. Check the microphone in Settings.</source>
        <translation>无法打开麦克风，直播将没有声音。请在设置中检查麦克风。</translation>
    </message>
</context>
<context>
    <name>FeedPage</name>
    <message>
        <location filename="../../app/ui/widgets/feed.py" line="96"/>
        <source>Load more</source>
        <translation>加载更多</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/feed.py" line="138"/>
        <location filename="../../app/ui/widgets/feed.py" line="146"/>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/feed.py" line="215"/>
        <source>No more items</source>
        <translation>没有更多了</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/feed.py" line="219"/>
        <location filename="../../app/ui/widgets/feed.py" line="232"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/feed.py" line="230"/>
        <source>Live rooms are not available in this version of the client yet.</source>
        <translation>此版本客户端暂不支持直播列表。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/feed.py" line="231"/>
        <source>This server does not provide the live room list.</source>
        <translation>此服务器未提供直播房间列表。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/feed.py" line="238"/>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
</context>
<context>
    <name>GoLive</name>
    <message>
        <location filename="../../app/ui/errors.py" line="191"/>
        <source>Local recording failed; the live stream continues. Check the recording folder in Settings.</source>
        <translation>本地录制失败，直播继续进行。请在设置中检查录制文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="193"/>
        <source>RTMP server refused the stream: check the push key (or the stream is already being published elsewhere).</source>
        <translation>RTMP 服务器拒绝了推流：请检查推流密钥（或该流已在别处推流）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="195"/>
        <source>Cannot reach the streaming server: check the server address and that the server is running.</source>
        <translation>无法连接推流服务器：请检查服务器地址，并确认服务器正在运行。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="197"/>
        <source>The network connection was lost and reconnecting failed.</source>
        <translation>网络连接已断开，重连失败。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="199"/>
        <source>The video source failed (camera unplugged or in use?).</source>
        <translation>视频源出错（摄像头被拔出或被占用？）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="201"/>
        <source>The microphone failed.</source>
        <translation>麦克风出错。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="202"/>
        <source>The video encoder failed.</source>
        <translation>视频编码器出错。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="203"/>
        <source>The video file has ended.</source>
        <translation>视频文件已播放完毕。</translation>
    </message>
    <message>
        <location filename="../../app/ui/errors.py" line="209"/>
        <source>Streaming stopped (code {0}).</source>
        <translation>推流已停止（错误码 {0}）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="38"/>
        <location filename="../../app/ui/widgets/golive_text.py" line="45"/>
        <source>Not live</source>
        <translation>未开播</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="39"/>
        <source>Preview (not live)</source>
        <translation>预览中（未开播）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="40"/>
        <source>Creating the room…</source>
        <translation>正在创建直播间…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="41"/>
        <source>Connecting to the streaming server…</source>
        <translation>正在连接推流服务器…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="42"/>
        <source>LIVE</source>
        <translation>直播中</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="43"/>
        <source>Reconnecting…</source>
        <translation>正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="44"/>
        <source>Ending the live…</source>
        <translation>正在结束直播…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="56"/>
        <source>{0} viewer</source>
        <translation>{0} 位观众</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="57"/>
        <source>{0} viewers</source>
        <translation>{0} 位观众</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="63"/>
        <source>{0} like</source>
        <translation>{0} 个赞</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="64"/>
        <source>{0} likes</source>
        <translation>{0} 个赞</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="76"/>
        <source>someone</source>
        <translation>匿名观众</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="80"/>
        <source>[danmaku] {0}: {1}</source>
        <translation>[弹幕] {0}: {1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="82"/>
        <source>{0} liked ❤</source>
        <translation>{0} 点了赞 ❤</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="84"/>
        <source>{0} entered the room</source>
        <translation>{0} 进入直播间</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="86"/>
        <source>{0} left the room</source>
        <translation>{0} 离开了直播间</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="88"/>
        <source>The room&apos;s chat group was closed.</source>
        <translation>直播间聊天群已解散。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_text.py" line="90"/>
        <source>Signed in elsewhere: chat disconnected.</source>
        <translation>账号已在其他设备登录，聊天已断开。</translation>
    </message>
</context>
<context>
    <name>GoLiveWindow</name>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="93"/>
        <source>Xiaozhibo — Go live</source>
        <translation>小直播 — 开播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="128"/>
        <source>Go live</source>
        <translation>开播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="131"/>
        <source>End live</source>
        <translation>结束直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="132"/>
        <location filename="../../app/ui/windows/golive.py" line="215"/>
        <source>Mute (Ctrl+M)</source>
        <translation>静音（Ctrl+M）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="134"/>
        <source>Pause camera</source>
        <translation>暂停画面</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="141"/>
        <source>Stream health</source>
        <translation>推流健康</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="165"/>
        <source>Setup</source>
        <translation>开播设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="166"/>
        <source>Room</source>
        <translation>直播间</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="177"/>
        <source>{0}&apos;s live</source>
        <translation>{0}的直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="192"/>
        <source>The server is back: your room is open again.</source>
        <translation>服务器已恢复：你的直播间已重新开放。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="215"/>
        <source>Unmute (Ctrl+M)</source>
        <translation>取消静音（Ctrl+M）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="222"/>
        <source>Log in first to go live.</source>
        <translation>请先登录再开播。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="225"/>
        <source>Choose a video source first (the preview is empty).</source>
        <translation>请先选择视频源（预览画面为空）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="227"/>
        <source>Live</source>
        <translation>直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="258"/>
        <source>Room {0} is open; connecting the stream…</source>
        <translation>直播间 {0} 已创建，正在连接推流…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="266"/>
        <source>Could not start the live.</source>
        <translation>无法开始直播。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="306"/>
        <source>Live ended · {0} · {1} · {2}</source>
        <translation>直播已结束 · {0} · {1} · {2}</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="375"/>
        <source>Chat connection lost; reconnecting…</source>
        <translation>聊天连接已断开，正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="376"/>
        <source>The chat server refused the sign-in. Log in again.</source>
        <translation>聊天服务器拒绝了登录。请重新登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="377"/>
        <source>Signed in elsewhere: the chat is disconnected.</source>
        <translation>账号已在其他设备登录，聊天已断开。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="424"/>
        <source>Cover upload failed.</source>
        <translation>封面上传失败。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="303"/>
        <source>Not on air: the room was closed again.</source>
        <translation>未能开播：直播间已关闭。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="321"/>
        <source>You are live.</source>
        <translation>直播已开始。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="323"/>
        <source>Connection lost: reconnecting…</source>
        <translation>连接断开，正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="331"/>
        <source>{0}x{1} · {2:.0f} fps · {3:.0f} kb/s · dropped {4} · CPU {5:.0f}% · delay {6:.0f} ms · reconnects {7} · audio {9:.0f} dB{8}</source>
        <translation>{0}x{1} · {2:.0f} fps · {3:.0f} kb/s · 丢帧 {4} · CPU {5:.0f}% · 延迟 {6:.0f} ms · 重连 {7} · 音频 {9:.0f} dB{8}</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="335"/>
        <source> · rec {0:.1f} MB</source>
        <translation> · 录制 {0:.1f} MB</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="337"/>
        <source> · RTT {0:.0f} ms</source>
        <translation> · 往返 {0:.0f} ms</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="363"/>
        <source>The server closed the room (missed heartbeats?).</source>
        <translation>服务器关闭了直播间（心跳超时？）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="387"/>
        <source>Cover image</source>
        <translation>封面图片</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="388"/>
        <source>Images (*.jpg *.jpeg *.png *.webp)</source>
        <translation>图片 (*.jpg *.jpeg *.png *.webp)</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/golive.py" line="395"/>
        <source>No preview picture yet.</source>
        <translation>还没有预览画面。</translation>
    </message>
</context>
<context>
    <name>HealthGraph</name>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="32"/>
        <source>Bitrate</source>
        <translation>码率</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="32"/>
        <source>kb/s</source>
        <translation>kb/s</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="33"/>
        <source>Frame rate</source>
        <translation>帧率</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="33"/>
        <source>fps</source>
        <translation>帧/秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="34"/>
        <source>Dropped frames</source>
        <translation>丢帧</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="34"/>
        <source>/s</source>
        <translation>/秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="35"/>
        <source>Round trip</source>
        <translation>往返时延</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="35"/>
        <source>ms</source>
        <translation>毫秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="36"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="61"/>
        <source>max {0:.0f}</source>
        <translation>最大 {0:.0f}</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="61"/>
        <source> · last 5 min</source>
        <translation> · 最近 5 分钟</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="105"/>
        <source>Waiting for the first statistics</source>
        <translation>等待第一组统计数据</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="106"/>
        <source>Healthy</source>
        <translation>健康</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="107"/>
        <source>Network congested: the upload can&apos;t keep up</source>
        <translation>网络拥塞：上行带宽跟不上</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/health_graph.py" line="108"/>
        <source>CPU overloaded: the encoder can&apos;t keep up</source>
        <translation>CPU 过载：编码器跟不上</translation>
    </message>
</context>
<context>
    <name>LinkMic</name>
    <message>
        <location filename="../../app/ui/widgets/cohost_pip.py" line="245"/>
        <source>connecting…</source>
        <translation>连接中…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/cohost_pip.py" line="257"/>
        <source>waiting for the picture…</source>
        <translation>等待画面…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="55"/>
        <source>{0} wants to co-host</source>
        <translation>{0} 请求连麦</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="60"/>
        <source>Accept</source>
        <translation>接受</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="62"/>
        <source>Reject</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="75"/>
        <source>{0} s</source>
        <translation>{0} 秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="91"/>
        <source>Co-host requests</source>
        <translation>连麦请求</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="160"/>
        <source>Kick</source>
        <translation>断开</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="178"/>
        <source>Co-hosting is unavailable.</source>
        <translation>连麦暂不可用。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="192"/>
        <source>{0} asks to co-host with you</source>
        <translation>{0} 请求与你连麦</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="197"/>
        <source>{0}&apos;s co-host request expired unanswered</source>
        <translation>{0} 的连麦请求已超时</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="198"/>
        <source>{0} withdrew the co-host request</source>
        <translation>{0} 撤回了连麦请求</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="199"/>
        <source>{0} could not join: 3 co-hosts are already on air</source>
        <translation>{0} 无法加入：已有 3 位连麦观众</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="206"/>
        <source>You accepted {0}: connecting…</source>
        <translation>你接受了 {0} 的连麦：连接中…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="212"/>
        <source>You declined {0}&apos;s co-host request</source>
        <translation>你拒绝了 {0} 的连麦请求</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="222"/>
        <source>{0} is co-hosting with you</source>
        <translation>{0} 正在与你连麦</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="224"/>
        <source>{0} left co-hosting</source>
        <translation>{0} 结束了连麦</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_linkmic.py" line="230"/>
        <source>disconnecting…</source>
        <translation>正在断开…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="94"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="95"/>
        <source>Screen</source>
        <translation>屏幕</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="96"/>
        <source>Test pattern</source>
        <translation>测试画面</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="112"/>
        <source>The anchor declined your co-host request.</source>
        <translation>主播拒绝了你的连麦请求。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="113"/>
        <source>The anchor is answering another co-host request; try again in a moment.</source>
        <translation>主播正在处理其他连麦请求，请稍后再试。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="114"/>
        <source>The anchor already has 3 co-hosts.</source>
        <translation>主播的连麦人数已满（3 人）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="115"/>
        <source>The anchor did not answer in time.</source>
        <translation>主播未及时响应连麦请求。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="116"/>
        <source>You withdrew the co-host request.</source>
        <translation>你撤回了连麦请求。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="117"/>
        <source>The anchor ended your co-hosting.</source>
        <translation>主播结束了你的连麦。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="118"/>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="120"/>
        <source>Co-hosting ended.</source>
        <translation>连麦已结束。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="120"/>
        <source>Co-hosting failed: {0}</source>
        <translation>连麦失败：{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="145"/>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="272"/>
        <source>Co-host</source>
        <translation>连麦</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="148"/>
        <source>Ask the anchor to go on air with you (camera and microphone)</source>
        <translation>请求与主播连麦（摄像头和麦克风）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="272"/>
        <source>Cancel request</source>
        <translation>取消请求</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="273"/>
        <source>End co-hosting</source>
        <translation>结束连麦</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="283"/>
        <source>Accepted: starting your camera…</source>
        <translation>主播已接受：正在打开摄像头…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="285"/>
        <source>Accepted: going on air…</source>
        <translation>已接受：正在上麦…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="287"/>
        <source>On air with the anchor</source>
        <translation>正在与主播连麦</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="296"/>
        <source>Waiting for an answer… {0} s</source>
        <translation>等待主播响应… {0} 秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="361"/>
        <source>No microphone: your co-host stream is silent.</source>
        <translation>没有麦克风：你的连麦画面将没有声音。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="368"/>
        <source>Cannot capture your screen.</source>
        <translation>无法采集你的屏幕。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="369"/>
        <source>Cannot start your camera.</source>
        <translation>无法启动摄像头。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="388"/>
        <source>You</source>
        <translation>我</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="391"/>
        <source>You are on air with the anchor (co-hosting).</source>
        <translation>你已与主播连麦。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_linkmic.py" line="400"/>
        <source>Your co-host stream stopped: {0}</source>
        <translation>你的连麦推流已停止：{0}</translation>
    </message>
</context>
<context>
    <name>LiveRoom</name>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="89"/>
        <source>{0} — live</source>
        <translation>{0} — 直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="107"/>
        <location filename="../../app/ui/windows/live_room.py" line="339"/>
        <source>Connecting…</source>
        <translation>连接中…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="178"/>
        <source>Sign in to chat</source>
        <translation>登录后即可聊天</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="179"/>
        <source>You are not signed in: chat and likes are off.</source>
        <translation>您尚未登录，无法聊天和点赞。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="182"/>
        <source>Joining the room…</source>
        <translation>正在进入直播间…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="201"/>
        <source>You entered the room. Be kind in the chat.</source>
        <translation>欢迎来到直播间！请文明发言。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="214"/>
        <location filename="../../app/ui/windows/live_room.py" line="301"/>
        <source>Chat unavailable</source>
        <translation>聊天不可用</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="215"/>
        <source>Could not join the chat.</source>
        <translation>无法加入聊天。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="302"/>
        <source>The chat server refused the sign-in. Log in again.</source>
        <translation>聊天服务器拒绝了登录。请重新登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="322"/>
        <source>Not sent.</source>
        <translation>未发送。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="259"/>
        <source>{0} entered the room</source>
        <translation>{0} 进入直播间</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="262"/>
        <source>{0} left the room</source>
        <translation>{0} 离开了直播间</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="280"/>
        <source>You were removed from this room</source>
        <translation>你已被移出此直播间</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="297"/>
        <source>Chat connection lost; reconnecting…</source>
        <translation>聊天连接断开，正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="340"/>
        <source>Buffering…</source>
        <translation>缓冲中…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="341"/>
        <source>Live</source>
        <translation>直播中</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="342"/>
        <source>Stream interrupted; reconnecting…</source>
        <translation>直播流中断，正在重连…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="355"/>
        <source>The live stream could not be played.
The chat stays open.</source>
        <translation>直播画面无法播放。
聊天仍可继续。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="365"/>
        <source>The anchor ended the live</source>
        <translation>主播已结束直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="368"/>
        <source>The live has ended</source>
        <translation>直播已结束</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="369"/>
        <source>Ended</source>
        <translation>已结束</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="379"/>
        <source>You were signed in on another device.</source>
        <translation>您的账号已在其他设备登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/live_room.py" line="382"/>
        <source>Signed in elsewhere</source>
        <translation>已在其他设备登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_audience.py" line="89"/>
        <source>{0} watching</source>
        <translation>{0} 人观看</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_audience.py" line="135"/>
        <source>No other viewers yet</source>
        <translation>暂无其他观众</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="65"/>
        <source>[danmaku] </source>
        <translation>[弹幕] </translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="109"/>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="151"/>
        <source>Say something…</source>
        <translation>说点什么…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="114"/>
        <source>Danmaku</source>
        <translation>弹幕</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="115"/>
        <source>Send as danmaku (flies over the video)</source>
        <translation>以弹幕发送（飘过画面）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="118"/>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="123"/>
        <source>Like (L)</source>
        <translation>点赞（L）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="150"/>
        <source>Send a danmaku…</source>
        <translation>发个弹幕…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/live_room_chat.py" line="163"/>
        <source>Too long: at most {0} bytes (about {1} Chinese characters).</source>
        <translation>内容太长：最多 {0} 字节（约 {1} 个汉字）。</translation>
    </message>
</context>
<context>
    <name>LogViewer</name>
    <message>
        <location filename="../../app/ui/windows/log_view.py" line="39"/>
        <source>Client log</source>
        <translation>客户端日志</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/log_view.py" line="56"/>
        <source>Filter</source>
        <translation>筛选</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/log_view.py" line="59"/>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="46"/>
        <location filename="../../app/ui/windows/login_dialog.py" line="126"/>
        <source>Xiaozhibo — Log in</source>
        <translation>小直播 — 登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="54"/>
        <source>Xiaozhibo</source>
        <translation>小直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="60"/>
        <location filename="../../app/ui/windows/login_dialog.py" line="92"/>
        <location filename="../../app/ui/windows/login_dialog.py" line="125"/>
        <location filename="../../app/ui/windows/login_dialog.py" line="147"/>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="61"/>
        <source>Register</source>
        <translation>注册</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="67"/>
        <source>4-24 letters, digits or _</source>
        <translation>4-24 位字母、数字或下划线</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="79"/>
        <source>Server settings</source>
        <translation>服务器设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="83"/>
        <source>User ID</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="84"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="85"/>
        <source>Confirm</source>
        <translation>确认密码</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="86"/>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="125"/>
        <location filename="../../app/ui/windows/login_dialog.py" line="147"/>
        <source>Register and log in</source>
        <translation>注册并登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="126"/>
        <source>Xiaozhibo — Register</source>
        <translation>小直播 — 注册</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="141"/>
        <source>Please wait…</source>
        <translation>请稍候…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="154"/>
        <source>User ID must be 4-24 letters, digits or _ and start with a letter.</source>
        <translation>用户名须为 4-24 位字母、数字或下划线，并以字母开头。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="156"/>
        <source>Enter your password.</source>
        <translation>请输入密码。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="159"/>
        <source>Password must be at least {0} characters.</source>
        <translation>密码至少需要 {0} 个字符。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="161"/>
        <source>The two passwords differ.</source>
        <translation>两次输入的密码不一致。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/login_dialog.py" line="164"/>
        <source>Server address must start with http:// or https://.</source>
        <translation>服务器地址必须以 http:// 或 https:// 开头。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="54"/>
        <source>Xiaozhibo</source>
        <translation>小直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="62"/>
        <source>Nobody is live right now.</source>
        <translation>现在没有人在直播。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="63"/>
        <source>No replays yet. Finished live shows appear here.</source>
        <translation>暂无回放。直播结束后会出现在这里。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="64"/>
        <source>No short videos yet.</source>
        <translation>暂无短视频。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="65"/>
        <source>Live</source>
        <translation>直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="65"/>
        <source>Replays</source>
        <translation>回放</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="65"/>
        <source>Short videos</source>
        <translation>短视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="102"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="104"/>
        <source>Go live</source>
        <translation>开播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="105"/>
        <source>Stop live</source>
        <translation>结束直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="106"/>
        <source>Mute</source>
        <translation>静音</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="107"/>
        <source>Record short video</source>
        <translation>录制短视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="109"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="110"/>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="111"/>
        <source>My profile</source>
        <translation>个人资料</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="112"/>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="113"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="119"/>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="150"/>
        <source>Signing in…</source>
        <translation>正在登录…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="167"/>
        <source>Log in to see live rooms, replays and short videos.</source>
        <translation>登录后即可查看直播、回放和短视频。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="196"/>
        <source>Your session has expired. Please log in again.</source>
        <translation>登录已过期，请重新登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="197"/>
        <source>You were signed in on another device.</source>
        <translation>您的账号已在其他设备登录。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="216"/>
        <source>{0} · {1}</source>
        <translation>{0} · {1}</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="308"/>
        <source>Stop live?</source>
        <translation>结束直播？</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/main_window.py" line="309"/>
        <source>You are live. Quit and end the live show?</source>
        <translation>正在直播中。要退出并结束直播吗？</translation>
    </message>
</context>
<context>
    <name>Moderation</name>
    <message>
        <location filename="../../app/ui/controllers/golive_moderation.py" line="74"/>
        <source>Room rules saved.</source>
        <translation>直播间规则已保存。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="30"/>
        <source>Mute for 1 minute</source>
        <translation>禁言 1 分钟</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="31"/>
        <source>Mute for 10 minutes</source>
        <translation>禁言 10 分钟</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="32"/>
        <source>Mute for 1 hour</source>
        <translation>禁言 1 小时</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="63"/>
        <source>You were muted in this room.</source>
        <translation>你在此直播间被禁言了。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="63"/>
        <source>{0} was muted.</source>
        <translation>{0} 已被禁言。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="65"/>
        <source>You can chat again.</source>
        <translation>你可以继续聊天了。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="67"/>
        <source>You were removed from this room.</source>
        <translation>你已被移出此直播间。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="67"/>
        <source>{0} was removed from the room.</source>
        <translation>{0} 已被移出直播间。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="69"/>
        <source>You are now an admin of this room.</source>
        <translation>你现在是此直播间的管理员。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="69"/>
        <source>{0} is now an admin.</source>
        <translation>{0} 现在是管理员。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="71"/>
        <source>You are no longer an admin of this room.</source>
        <translation>你不再是此直播间的管理员。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="139"/>
        <source>Unmute</source>
        <translation>解除禁言</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="140"/>
        <source>{0} can chat again.</source>
        <translation>{0} 可以继续聊天了。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="141"/>
        <source>Ban from the room</source>
        <translation>踢出并拉黑</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="143"/>
        <source>Remove this message</source>
        <translation>删除这条消息</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="146"/>
        <source>Remove admin</source>
        <translation>取消管理员</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="146"/>
        <source>Make admin</source>
        <translation>设为管理员</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="149"/>
        <source>Report this message</source>
        <translation>举报这条消息</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/moderation.py" line="151"/>
        <source>Thank you. The room&apos;s admins will look at it.</source>
        <translation>感谢举报，直播间管理员会处理。</translation>
    </message>
</context>
<context>
    <name>Ops</name>
    <message>
        <location filename="../../app/ui/errors.py" line="52"/>
        <source>Xiaozhibo</source>
        <translation>小直播</translation>
    </message>
</context>
<context>
    <name>Pk</name>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="55"/>
        <source>PK with another anchor</source>
        <translation>与其他主播 PK</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="58"/>
        <source>Loading the live rooms…</source>
        <translation>正在加载直播间…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="60"/>
        <source>Invite</source>
        <translation>邀请</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="68"/>
        <source>Invite a live anchor to a 3-minute PK: the one whose viewers send more likes wins.</source>
        <translation>邀请一位正在直播的主播进行 3 分钟 PK：观众点赞多的一方获胜。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="84"/>
        <source>No other anchor is live right now.</source>
        <translation>现在没有其他主播在直播。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="87"/>
        <source>Cannot load the live rooms.</source>
        <translation>无法加载直播间。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="115"/>
        <source>Accept PK</source>
        <translation>接受 PK</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="117"/>
        <source>Reject</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="133"/>
        <location filename="../../app/ui/widgets/golive_pk.py" line="239"/>
        <source>{0} invites you to a PK</source>
        <translation>{0} 邀请你 PK</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="150"/>
        <source>{0} s</source>
        <translation>{0} 秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="169"/>
        <location filename="../../app/ui/widgets/golive_pk.py" line="222"/>
        <location filename="../../app/ui/widgets/golive_pk.py" line="272"/>
        <source>PK</source>
        <translation>PK</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="217"/>
        <source>PK invitation sent to {0}…</source>
        <translation>已向 {0} 发送 PK 邀请…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="222"/>
        <source>Cancel PK invite</source>
        <translation>取消 PK 邀请</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="222"/>
        <source>End PK</source>
        <translation>结束 PK</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="225"/>
        <source>PK started!</source>
        <translation>PK 开始！</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="227"/>
        <source>{0} declined the PK.</source>
        <translation>{0} 拒绝了 PK。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="227"/>
        <source>{0} is busy: no PK now.</source>
        <translation>{0} 正忙，暂时无法 PK。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="228"/>
        <source>{0} did not answer the PK invitation.</source>
        <translation>{0} 未回应 PK 邀请。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="229"/>
        <source>PK invitation withdrawn.</source>
        <translation>PK 邀请已撤回。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="233"/>
        <source>PK over: {0} wins.</source>
        <translation>PK 结束：{0} 获胜。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="233"/>
        <source>PK over: a draw.</source>
        <translation>PK 结束：平局。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="234"/>
        <source>PK ended.</source>
        <translation>PK 已结束。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_pk.py" line="243"/>
        <source>The PK invitation is gone ({0}).</source>
        <translation>PK 邀请已失效（{0}）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/pk_stage.py" line="119"/>
        <source>Draw</source>
        <translation>平局</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/pk_stage.py" line="122"/>
        <source>{0} wins!</source>
        <translation>{0} 获胜！</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/pk_stage.py" line="128"/>
        <source>PK {0}</source>
        <translation>PK {0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/pk_stage.py" line="128"/>
        <source>PK over</source>
        <translation>PK 结束</translation>
    </message>
</context>
<context>
    <name>PlayWindow</name>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="62"/>
        <source>The anchor ended the live</source>
        <translation>主播已结束直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="63"/>
        <source>End of the replay</source>
        <translation>回放结束</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="64"/>
        <source>Playback failed. Open Log in the toolbar for the details.</source>
        <translation>播放出错。请打开工具栏中的“日志”查看详情。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="319"/>
        <source>Xiaozhibo — {0}</source>
        <translation>小直播 — {0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="319"/>
        <source>Xiaozhibo</source>
        <translation>小直播</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="340"/>
        <source>❤ Like</source>
        <translation>❤ 点赞</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="342"/>
        <source>opening…</source>
        <translation>正在打开…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/play_window.py" line="402"/>
        <source>Playback ended</source>
        <translation>播放结束</translation>
    </message>
</context>
<context>
    <name>ProfileDialog</name>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="78"/>
        <source>My profile</source>
        <translation>个人资料</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="95"/>
        <source>Not set</source>
        <translation>未设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="95"/>
        <source>Male</source>
        <translation>男</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="95"/>
        <source>Female</source>
        <translation>女</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="98"/>
        <source>Change avatar…</source>
        <translation>更换头像…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="101"/>
        <source>Change cover…</source>
        <translation>更换封面…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="110"/>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="114"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="129"/>
        <source>Nickname</source>
        <translation>昵称</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="130"/>
        <source>Sex</source>
        <translation>性别</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="131"/>
        <source>Cover</source>
        <translation>封面</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="157"/>
        <source>Choose an avatar</source>
        <translation>选择头像</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="157"/>
        <source>Choose a cover</source>
        <translation>选择封面</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="158"/>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>图片 (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="170"/>
        <source>Uploading {0}…</source>
        <translation>正在上传 {0}…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="191"/>
        <source>Uploaded. Press Save to keep it.</source>
        <translation>已上传。点击“保存”后生效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="198"/>
        <source>Upload failed: {0}</source>
        <translation>上传失败：{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="207"/>
        <source>Nickname cannot be empty.</source>
        <translation>昵称不能为空。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="212"/>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="217"/>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/profile.py" line="222"/>
        <source>Not saved: {0}</source>
        <translation>未保存：{0}</translation>
    </message>
</context>
<context>
    <name>PublishPanel</name>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="143"/>
        <source>Required: what is this clip about?</source>
        <translation>必填：这段短视频讲了什么？</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="146"/>
        <source>Optional</source>
        <translation>选填</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="147"/>
        <source>Publish</source>
        <translation>发布</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="149"/>
        <source>Upload the clip and publish it (Ctrl+Enter)</source>
        <translation>上传并发布短视频 (Ctrl+Enter)</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="160"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="161"/>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="182"/>
        <source>No cover</source>
        <translation>无封面</translation>
    </message>
</context>
<context>
    <name>RecordBar</name>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="63"/>
        <source>● Record</source>
        <translation>● 录制</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="65"/>
        <source>Start recording (Ctrl+R)</source>
        <translation>开始录制 (Ctrl+R)</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="66"/>
        <source>■ Stop</source>
        <translation>■ 停止</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="67"/>
        <source>Stop recording (Ctrl+R)</source>
        <translation>停止录制 (Ctrl+R)</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="72"/>
        <source>● REC</source>
        <translation>● 录制中</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="99"/>
        <source>At most {0} s</source>
        <translation>最长 {0} 秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="104"/>
        <source>Saving…</source>
        <translation>正在保存…</translation>
    </message>
</context>
<context>
    <name>RecordController</name>
    <message>
        <location filename="../../app/ui/controllers/ugc_recorder.py" line="137"/>
        <source>Choose a video source first (the preview is empty).</source>
        <translation>请先选择视频源（预览为空）。</translation>
    </message>
</context>
<context>
    <name>RegionPicker</name>
    <message>
        <location filename="../../app/ui/widgets/region_picker.py" line="191"/>
        <source>Drag a rectangle · drag its edges to resize · Enter or double-click to confirm · Esc to cancel</source>
        <translation>拖出一个矩形 · 拖动边缘调整大小 · 回车或双击确认 · Esc 取消</translation>
    </message>
</context>
<context>
    <name>Replay</name>
    <message>
        <location filename="../../app/ui/windows/replay_window.py" line="72"/>
        <source>{0} — replay</source>
        <translation>{0} — 回放</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/replay_window.py" line="73"/>
        <source>Replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/replay_window.py" line="89"/>
        <source>Play / pause (Space)</source>
        <translation>播放/暂停（空格）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/replay_window.py" line="135"/>
        <source>{0} danmaku</source>
        <translation>{0} 条弹幕</translation>
    </message>
</context>
<context>
    <name>ReviewBar</name>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="115"/>
        <source>Play / pause the recorded clip</source>
        <translation>播放 / 暂停录好的短视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="118"/>
        <source>Discard and record again</source>
        <translation>放弃并重新录制</translation>
    </message>
</context>
<context>
    <name>RoomRules</name>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="50"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="51"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="52"/>
        <source>Slow mode: the least time between two messages of one viewer</source>
        <translation>慢速模式：同一观众两条消息之间的最短间隔</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="54"/>
        <source>Words to mask, separated by commas</source>
        <translation>要屏蔽的词，用逗号分隔</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="55"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="59"/>
        <source>Slow mode</source>
        <translation>慢速模式</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="63"/>
        <source>Word list</source>
        <translation>屏蔽词</translation>
    </message>
</context>
<context>
    <name>ServerWatch</name>
    <message>
        <location filename="../../app/ui/server_watch.py" line="49"/>
        <source>The local server stopped (exit code {0}).</source>
        <translation>本地服务器已停止（退出码 {0}）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/server_watch.py" line="53"/>
        <source>Server stopped</source>
        <translation>服务器已停止</translation>
    </message>
    <message>
        <location filename="../../app/ui/server_watch.py" line="55"/>
        <source>Restart</source>
        <translation>重新启动</translation>
    </message>
    <message>
        <location filename="../../app/ui/server_watch.py" line="56"/>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../app/ui/server_watch.py" line="80"/>
        <source>The local server did not restart: {0}</source>
        <translation>本地服务器未能重新启动：{0}</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="78"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="85"/>
        <source>System certificates</source>
        <translation>系统证书</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="101"/>
        <source>System</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="111"/>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="115"/>
        <source>CA certificate (https)</source>
        <translation>CA 证书（https）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="119"/>
        <source>Camera</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="120"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="121"/>
        <source>Speaker</source>
        <translation>扬声器</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="122"/>
        <source>Default resolution</source>
        <translation>默认分辨率</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="123"/>
        <source>Default frame rate</source>
        <translation>默认帧率</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="124"/>
        <source>Default bitrate</source>
        <translation>默认码率</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="125"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="126"/>
        <source>Changing the server signs you out. A new language applies after a restart.</source>
        <translation>更换服务器会退出登录。语言设置在重启后生效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="139"/>
        <location filename="../../app/ui/windows/settings_dialog.py" line="172"/>
        <source>{0} (not connected)</source>
        <translation>{0}（未连接）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="146"/>
        <source>List the cameras again (after plugging one in)</source>
        <translation>重新列出摄像头（插入新设备后）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="168"/>
        <source>First camera found</source>
        <translation>第一个找到的摄像头</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="171"/>
        <source>Test pattern</source>
        <translation>测试图案</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="150"/>
        <location filename="../../app/ui/windows/settings_dialog.py" line="159"/>
        <source>Default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="151"/>
        <source>None (silent track)</source>
        <translation>无（静音音轨）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="155"/>
        <source>Test tone</source>
        <translation>测试音</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="183"/>
        <source>CA certificate</source>
        <translation>CA 证书</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="184"/>
        <source>Certificates (*.pem *.crt *.cer);;All files (*)</source>
        <translation>证书 (*.pem *.crt *.cer);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="192"/>
        <source>Server address must start with http:// or https://.</source>
        <translation>服务器地址必须以 http:// 或 https:// 开头。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/settings_dialog.py" line="193"/>
        <source>Invalid value: {0}</source>
        <translation>无效的值：{0}</translation>
    </message>
</context>
<context>
    <name>SetupPanel</name>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="74"/>
        <source>Test pattern</source>
        <translation>测试画面</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="85"/>
        <source>Screen (chosen in the system dialog)</source>
        <translation>屏幕（在系统对话框中选择）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="87"/>
        <source>Screen {0} ({1}x{2})</source>
        <translation>屏幕 {0}（{1}x{2}）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="92"/>
        <source>Screen region…</source>
        <translation>屏幕区域…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="93"/>
        <source>Screen + floating camera</source>
        <translation>屏幕 + 悬浮摄像头</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="94"/>
        <source>Video file…</source>
        <translation>视频文件…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="130"/>
        <source>List the cameras and screens again (after plugging one in)</source>
        <translation>重新列出摄像头和屏幕（插入新设备后）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="133"/>
        <location filename="../../app/ui/widgets/golive_setup.py" line="297"/>
        <source>LEFT,TOP,WIDTH,HEIGHT</source>
        <translation>左,上,宽,高</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="134"/>
        <location filename="../../app/ui/widgets/golive_setup.py" line="221"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="136"/>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="138"/>
        <source>Select region…</source>
        <translation>选择区域…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="142"/>
        <source>Source</source>
        <translation>视频源</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="149"/>
        <source>What is this live about?</source>
        <translation>给直播起个标题吧</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="150"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="153"/>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="154"/>
        <location filename="../../app/ui/widgets/golive_setup.py" line="482"/>
        <source>No cover</source>
        <translation>无封面</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="158"/>
        <source>Choose…</source>
        <translation>选择…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="160"/>
        <source>From preview</source>
        <translation>从预览截取</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="172"/>
        <source>Cover</source>
        <translation>封面</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="188"/>
        <source>Video</source>
        <translation>视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="188"/>
        <source>fps</source>
        <translation>帧率</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="197"/>
        <source>Mirror</source>
        <translation>镜像</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="200"/>
        <source>Beauty</source>
        <translation>美颜</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="201"/>
        <source>Whitening</source>
        <translation>美白</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="204"/>
        <source>No microphone (silent track)</source>
        <translation>不使用麦克风（静音音轨）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="206"/>
        <source>microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="207"/>
        <source>Test tone</source>
        <translation>测试音</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="216"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="217"/>
        <source>Mic level</source>
        <translation>麦克风电平</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="217"/>
        <location filename="../../app/ui/widgets/golive_setup.py" line="233"/>
        <source>vol</source>
        <translation>音量</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="220"/>
        <source>Background music file</source>
        <translation>背景音乐文件</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="223"/>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="224"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="225"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="232"/>
        <source>Music</source>
        <translation>背景音乐</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="236"/>
        <source>Record locally to</source>
        <translation>本地录制到</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="298"/>
        <source>camera index (default 0)</source>
        <translation>摄像头编号（默认 0）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="334"/>
        <source>{0}×{1} at ({2}, {3})</source>
        <translation>{0}×{1}，位于 ({2}, {3})</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="338"/>
        <source>Video file</source>
        <translation>视频文件</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="339"/>
        <source>Videos (*.mp4 *.mkv *.mov *.flv *.avi *.webm)</source>
        <translation>视频 (*.mp4 *.mkv *.mov *.flv *.avi *.webm)</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="428"/>
        <source>Background music</source>
        <translation>背景音乐</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="429"/>
        <source>Audio (*.mp3 *.m4a *.aac *.wav *.flac *.ogg *.opus *.mp4)</source>
        <translation>音频 (*.mp3 *.m4a *.aac *.wav *.flac *.ogg *.opus *.mp4)</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_setup.py" line="482"/>
        <source>Cover set</source>
        <translation>已设置封面</translation>
    </message>
</context>
<context>
    <name>SourceBar</name>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="50"/>
        <source>Source</source>
        <translation>视频源</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/ugc_panels.py" line="53"/>
        <source>Microphone</source>
        <translation>麦克风</translation>
    </message>
</context>
<context>
    <name>StudioSection</name>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="98"/>
        <source>Encoder</source>
        <translation>编码器</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="101"/>
        <source>Auto (hardware if available, else x264)</source>
        <translation>自动（有硬件编码器则用硬件，否则 x264）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="101"/>
        <source>x264 (software)</source>
        <translation>x264（软件）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="102"/>
        <source>HEVC (enhanced RTMP; hardware if available)</source>
        <translation>HEVC（增强 RTMP；有硬件则用硬件）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="107"/>
        <source>Video encoder</source>
        <translation>视频编码器</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="114"/>
        <source>{0} (hardware)</source>
        <translation>{0}（硬件）</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="133"/>
        <source>Overlays</source>
        <translation>叠加层</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="139"/>
        <source>Add image…</source>
        <translation>添加图片…</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="142"/>
        <source>Text</source>
        <translation>文字</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="144"/>
        <source>Add text</source>
        <translation>添加文字</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="147"/>
        <location filename="../../app/ui/widgets/golive_studio.py" line="261"/>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="151"/>
        <source>top left</source>
        <translation>左上</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="151"/>
        <source>top right</source>
        <translation>右上</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="152"/>
        <source>bottom left</source>
        <translation>左下</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="152"/>
        <source>bottom right</source>
        <translation>右下</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="153"/>
        <source>center</source>
        <translation>居中</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="162"/>
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="162"/>
        <source>Scale</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="163"/>
        <source>Opacity</source>
        <translation>不透明度</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="168"/>
        <source>Overlay image</source>
        <translation>叠加图片</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="169"/>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.webp)</source>
        <translation>图片 (*.png *.jpg *.jpeg *.bmp *.webp)</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="223"/>
        <source>Also stream to</source>
        <translation>同时推流到</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="230"/>
        <source>stream key</source>
        <translation>推流密钥</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_studio.py" line="232"/>
        <source>Add</source>
        <translation>添加</translation>
    </message>
</context>
<context>
    <name>SummaryDialog</name>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="166"/>
        <source>Live ended</source>
        <translation>直播已结束</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="167"/>
        <source>Your live has ended</source>
        <translation>本场直播已结束</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="167"/>
        <source>Your live was interrupted</source>
        <translation>本场直播意外中断</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="172"/>
        <source>Duration</source>
        <translation>直播时长</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="173"/>
        <source>Total viewers</source>
        <translation>累计观众</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="174"/>
        <source>Likes</source>
        <translation>点赞</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="175"/>
        <source>Peak online</source>
        <translation>最高在线</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="176"/>
        <source>Messages</source>
        <translation>消息数</translation>
    </message>
    <message>
        <location filename="../../app/ui/widgets/golive_chat.py" line="187"/>
        <source>The server could not be reached while closing the room, so the totals may be incomplete. The server removes the room by itself shortly.</source>
        <translation>关闭直播间时无法连接服务器，统计数据可能不完整。服务器稍后会自动移除该直播间。</translation>
    </message>
</context>
<context>
    <name>UgcDialog</name>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="77"/>
        <source>Record short video</source>
        <translation>录制短视频</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="123"/>
        <source>No microphone (silent track)</source>
        <translation>不用麦克风（静音音轨）</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="125"/>
        <source>microphone</source>
        <translation>麦克风</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="126"/>
        <source>Test tone</source>
        <translation>测试音</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="182"/>
        <source>Opening the source…</source>
        <translation>正在打开视频源…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="219"/>
        <source>Cannot record: {0}</source>
        <translation>无法录制：{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="237"/>
        <source>Recording failed: {0}</source>
        <translation>录制失败：{0}</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="237"/>
        <source>nothing was recorded</source>
        <translation>没有录到任何内容</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="244"/>
        <source>Recorded {0} (the {1} s limit).</source>
        <translation>已录制 {0}（已达 {1} 秒上限）。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="246"/>
        <source>Recorded {0}. Add a title and publish it.</source>
        <translation>已录制 {0}。填写标题后即可发布。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="330"/>
        <source>Log in first to publish.</source>
        <translation>请先登录再发布。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="335"/>
        <source>Publishing…</source>
        <translation>正在发布…</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="344"/>
        <source>Uploading… {0} %</source>
        <translation>正在上传… {0}%</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="359"/>
        <source>Published “{0}”. It is now in Short videos.</source>
        <translation>已发布“{0}”，可在“短视频”中查看。</translation>
    </message>
    <message>
        <location filename="../../app/ui/windows/ugc_dialog.py" line="369"/>
        <source>Publishing failed: {0}</source>
        <translation>发布失败：{0}</translation>
    </message>
</context>
<context>
    <name>Watch</name>
    <message>
        <location filename="../../app/ui/controllers/watch.py" line="37"/>
        <location filename="../../app/ui/controllers/watch.py" line="47"/>
        <source>Cannot play</source>
        <translation>无法播放</translation>
    </message>
    <message>
        <location filename="../../app/ui/controllers/watch.py" line="37"/>
        <source>This item has no play address.</source>
        <translation>该内容没有播放地址。</translation>
    </message>
</context>
</TS>
